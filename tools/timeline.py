#!/usr/bin/python3
"""Timelines of real runs: parse an strace log, draw it as an SVG with one lane per
process, list its events as text.

    timeline.py strace TRACE -- COMMAND [ARG...]   run COMMAND under strace, as below
    timeline.py check TRACE          parse TRACE; print a summary, exit 1 if broken
    timeline.py svg TRACE > out.svg  draw it (English words), for a look by hand

The build makes one extra run of each example declared with TIMELINE (CMake,
tutorial_example) under the tracer a reader can run too:

    strace -f -ttt -T -q -yy -s 16 -o NAME.strace -e trace=<TRACE_CALLS> ./NAME

-f follows children and threads, -ttt stamps each line with the wall-clock time, -T
adds how long a call took (how long it blocked), -yy shows what a descriptor is (a
pipe's inode, both ends of a socket, a pidfd's process), so a write can be matched to
the read that received it. -q (not -qq) keeps the "+++ exited with 3 +++" and
"+++ killed by SIGKILL +++" lines: they are the exits the picture shows.

The directive (docs/_ext/timeline.py) calls model(), svg() and event_texts(); words
pass through `word`, the page's translation, while code (call names, signals, pids,
program names) never does.
"""
import html
import os
import re
import sys
from dataclasses import dataclass, field

TRACE_CALLS = ("%process,pidfd_send_signal,read,write,readv,writev,recvmsg,sendmsg,"
               "recvfrom,sendto,futex,poll,ppoll,pselect6,epoll_wait,epoll_pwait,"
               "mq_timedsend,mq_timedreceive,rt_sigtimedwait,rt_sigsuspend,flock")
STRACE_OPTIONS = ("-f", "-ttt", "-T", "-q", "-yy", "-s", "16")

# Every word the pictures and lists use (the directive sends them through the page's
# catalogue; `tests/timeline` checks that this list is complete).
WORDS = ("created", "new thread", "exited", "killed by", "reaped", "sent", "received",
         "blocked in", "end of file", "message", "thread", "zombie",
         "time since the start (ms)", "more lanes: see the event list",
         "more events of these kinds are not listed")

LINE = re.compile(r"(\d+)\s+(\d+\.\d+)\s+(.*)")
SIGNAL_LINE = re.compile(r"--- (SIG\w+) \{(.*)\} ---")
STOP_LINE = re.compile(r"--- stopped by (SIG\w+) ---")
EXIT_LINE = re.compile(r"\+\+\+ (?:exited with (\d+)|killed by (SIG\w+)( \(core dumped\))?) \+\+\+")
SUPERSEDED = re.compile(r"\+\+\+ superseded by execve in pid \d+ \+\+\+")   # a thread's exec
UNFINISHED = re.compile(r"(\w+)\((.*?)\s*<unfinished \.\.\.>")
RESUMED = re.compile(r"<\.\.\. (\w+) resumed>(.*)")
CALL = re.compile(r"(\w+)\((.*)")
# The tail of a finished call: ") = RESULT [ERRNO (text)] [(note)] [<duration>]".
RESULT = re.compile(r"(.*)\)\s+=\s+(-?\d+|\?|0x[0-9a-f]+)(<[^>]*>)?"
                    r"(?:\s+(E[A-Z0-9_]+) \([^)]*\))?(?:\s+\(.*\))?(?:\s+<(\d+\.\d+)>)?\s*")
FD_KIND = re.compile(r"^\d+<(pipe:\[(\d+)\]|[A-Z]+(?:-[A-Z]+)?:\[(\d+)->(\d+)\]|pid:(\d+))")
BLOCKING = {"read", "readv", "write", "writev", "recvmsg", "recvfrom", "sendmsg", "sendto",
            "futex", "poll", "ppoll", "pselect6", "epoll_wait", "epoll_pwait", "wait4",
            "waitid", "mq_timedsend", "mq_timedreceive", "rt_sigtimedwait",
            "rt_sigsuspend", "flock"}
SENDS = {"write", "writev", "sendmsg", "sendto"}
RECEIVES = {"read", "readv", "recvmsg", "recvfrom"}
MAX_LANES = 14
MAX_MESSAGES = 40      # message arrows drawn (and listed); the rest are counted
MAX_SIGCHLD = 12
SKEW = 0.002        # s: a read may be stamped before the write that fed it (ptrace)


class TraceError(Exception):
    """A trace that is not strace's output (or is cut short)."""


@dataclass
class Call:
    tid: int
    name: str
    args: str
    result: str
    errno: str
    start: float
    duration: float


@dataclass
class Task:
    tid: int
    process: int            # thread-group id (the process's pid)
    parent: int | None
    start: float
    name: str
    thread: bool = False
    end: float | None = None
    status: str = ""        # "exited 3" / "killed by SIGKILL": code, not words
    reaped: float | None = None


@dataclass
class Event:
    time: float
    tid: int
    kind: str               # created, thread, exec, exited, killed, reaped, sent,
                            # received, message, eof, blocked
    code: str = ""          # the untranslated part: call, signal, pid, status
    other: int | None = None   # the other lane (child, target, sender, receiver)
    until: float | None = None  # blocked: when it returned; message: when received


@dataclass
class Timeline:
    tasks: dict = field(default_factory=dict)
    events: list = field(default_factory=list)
    start: float = 0.0
    end: float = 0.0
    dropped: int = 0        # events of the capped kinds not drawn or listed


def parse(text):
    """Finished calls and the lines that are not calls, in order of time. A line that
    is not strace -f -ttt -T output, or a call left unfinished by a process that went
    on, raises TraceError naming the line."""
    calls, pending = [], {}
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise TraceError("the trace is empty")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        m = LINE.fullmatch(line)
        if not m:
            raise TraceError(f"line {number}: not 'PID SECONDS.MICROS ...': {line[:80]!r}")
        tid, start, rest = int(m.group(1)), float(m.group(2)), m.group(3)
        if rest.startswith(("---", "+++")):
            if not (SIGNAL_LINE.fullmatch(rest) or STOP_LINE.fullmatch(rest)
                    or EXIT_LINE.fullmatch(rest) or SUPERSEDED.fullmatch(rest)):
                raise TraceError(f"line {number}: unknown notice {rest[:60]!r}")
            calls.append(Call(tid, rest[:3], rest, "", "", start, 0.0))
            if rest.startswith("+++"):
                pending.pop(tid, None)   # killed while blocked: the call never returns
            continue
        if tid in pending and not rest.startswith("<..."):
            name = pending[tid][0]
            raise TraceError(f"line {number}: {tid} starts a call while {name}() is unfinished")
        u = UNFINISHED.fullmatch(rest) if rest.endswith("<unfinished ...>") else None
        if u:
            pending[tid] = (u.group(1), u.group(2), start)
            continue
        r = RESUMED.fullmatch(rest) if rest.startswith("<...") else None
        if r:
            if tid not in pending or pending[tid][0] != r.group(1):
                raise TraceError(f"line {number}: {r.group(1)} resumed but never started")
            name, head, start = pending.pop(tid)
            rest = f"{name}({head}{', ' if head and not head.endswith(',') else ''}{r.group(2)}"
        c = CALL.fullmatch(rest)
        tail = RESULT.fullmatch(c.group(2)) if c else None
        if not tail:
            raise TraceError(f"line {number}: not a finished call: {rest[:80]!r}")
        calls.append(Call(tid, c.group(1), tail.group(1), tail.group(2) + (tail.group(3) or ""),
                          tail.group(4) or "", start, float(tail.group(5) or 0.0)))
    calls.sort(key=lambda c: c.start)
    return calls


def fd_key(args, receiving):
    """What a descriptor argument is: ("pipe", inode), a socket end as the inode a
    message travels to, or None."""
    m = FD_KIND.match(args)
    if not m:
        return None
    if m.group(2):
        return ("pipe", m.group(2))
    if m.group(3):   # own inode -> peer inode: a write travels to the peer's end
        return ("sock", m.group(3) if receiving else m.group(4))
    return None


def pid_of(args):
    """The process a kill()/pidfd_send_signal()/wait call names, if one."""
    m = re.match(r"(-?\d+)\b(?!<)", args)
    if m:
        return int(m.group(1))
    m = FD_KIND.match(args)
    return int(m.group(5)) if m and m.group(5) else None


def signal_arg(args):
    m = re.search(r"\bSIG[A-Z0-9]+\b", args)
    return m.group(0) if m else ""


def model(text):
    """The timeline of a trace: its tasks (lanes) and events."""
    calls = parse(text)
    tl = Timeline(start=calls[0].start,
                  end=max(c.start + c.duration for c in calls))
    tasks = tl.tasks

    def task(tid, at):
        if tid not in tasks:   # a process seen before the call that created it returned
            tasks[tid] = Task(tid, tid, None, at, "?")
        return tasks[tid]

    first = calls[0]
    name = re.match(r'"([^"]*)"', first.args) if first.name == "execve" else None
    tasks[first.tid] = Task(first.tid, first.tid, None, first.start,
                            os.path.basename(name.group(1)) if name else "?")
    sigchld = 0
    for c in calls:
        me = task(c.tid, c.start)
        end = c.start + c.duration
        if c.name in ("clone", "clone3", "fork", "vfork") and c.result.lstrip("-").isdigit() \
                and int(c.result) > 0:
            child = int(c.result)
            thread = "CLONE_THREAD" in c.args
            new = tasks.setdefault(child, Task(child, child, c.tid, end, me.name))
            new.parent, new.name, new.thread = c.tid, me.name, thread
            new.process = me.process if thread else child
            new.start = min(new.start, end)
            tl.events.append(Event(end, c.tid, "thread" if thread else "created",
                                   f"{c.name} → {child}", child))
        elif c.name in ("execve", "execveat") and c is not first:
            prog = re.match(r'"([^"]*)"', c.args)
            prog = os.path.basename(prog.group(1)) if prog else "?"
            if c.result == "0":
                me.name = prog
                tl.events.append(Event(end, c.tid, "exec", f"execve {prog}"))
            else:
                tl.events.append(Event(end, c.tid, "exec", f"execve {prog}: {c.errno}"))
        elif c.name == "+++" and EXIT_LINE.fullmatch(c.args):
            m = EXIT_LINE.fullmatch(c.args)
            me.end = c.start
            if m.group(1) is not None:
                me.status = f"exit {m.group(1)}"
                tl.events.append(Event(c.start, c.tid, "exited", m.group(1)))
            else:
                me.status = f"{m.group(2)}{' (core dumped)' if m.group(3) else ''}"
                tl.events.append(Event(c.start, c.tid, "killed", me.status))
        elif c.name == "---":
            m = SIGNAL_LINE.fullmatch(c.args)
            if not m:
                continue
            sender = re.search(r"si_pid=(\d+)", m.group(2))
            if m.group(1) == "SIGCHLD":
                sigchld += 1
                if sigchld > MAX_SIGCHLD:
                    tl.dropped += 1
                    continue
            tl.events.append(Event(c.start, c.tid, "received", m.group(1),
                                   int(sender.group(1)) if sender else None))
        elif c.name in ("wait4", "waitid") and c.result.isdigit():
            pid = int(c.result)
            if c.name == "waitid":
                m = re.search(r"si_pid=(\d+)", c.args)
                pid = int(m.group(1)) if m and c.result == "0" and "WNOWAIT" not in c.args else 0
            if pid > 0:
                task(pid, end).reaped = end
                tl.events.append(Event(end, c.tid, "reaped", str(pid), pid))
        elif c.name in ("kill", "tgkill", "tkill", "pidfd_send_signal") and c.result == "0":
            args = c.args.split(",", 1)[1].strip() if c.name == "tgkill" else c.args
            target = pid_of(args)
            sig = signal_arg(c.args)
            if sig:
                tl.events.append(Event(c.start, c.tid, "sent", f"{c.name} {sig} → {target}",
                                       target))
    messages(tl, calls)
    span = max(tl.end - tl.start, 1e-6)
    threshold = max(0.0005, 0.01 * span)
    for c in calls:
        if c.name in BLOCKING and c.duration >= threshold and c.errno != "EINTR" \
                and (c.name != "futex" or "FUTEX_WAIT" in c.args):
            tl.events.append(Event(c.start, c.tid, "blocked", c.name, None,
                                   c.start + c.duration))
    # posix_spawnp() and execvp() try each directory of PATH: keep a failed execve
    # only when no later one of the same task succeeded.
    execs = [e for e in tl.events if e.kind == "exec"]
    tl.events = [e for e in tl.events if e.kind != "exec" or ":" not in e.code
                 or not any(o.tid == e.tid and o.time > e.time and ":" not in o.code
                            for o in execs)]
    tl.events.sort(key=lambda e: (e.time, e.kind == "reaped", e.tid))
    sent = [e for e in tl.events if e.kind == "message"]
    if len(sent) > MAX_MESSAGES:
        extra = set(map(id, sent[MAX_MESSAGES:]))
        tl.dropped += len(extra)
        tl.events = [e for e in tl.events if id(e) not in extra]
    for t in tasks.values():
        if t.end is None:
            t.end = tl.end
    return tl


def messages(tl, calls):
    """Writes matched to the reads that received their bytes (a pipe's inode, a
    socket's peer), in the order the kernel saw them: a write when it started, a read
    when it returned. End of file (read = 0) and EPIPE are events of their own."""
    io = []
    for c in calls:
        if c.name in SENDS or c.name in RECEIVES:
            key = fd_key(c.args, c.name in RECEIVES)
            if key is not None:
                io.append((c.start if c.name in SENDS else c.start + c.duration, key, c))
    queues, waiting = {}, {}
    for at, key, c in sorted(io, key=lambda item: item[0]):
        if c.name in SENDS and c.errno == "EPIPE":
            tl.events.append(Event(at + c.duration, c.tid, "eof", f"{c.name}: EPIPE"))
        elif c.name in SENDS and c.result.isdigit() and int(c.result) > 0:
            early = waiting.pop(key, None)
            if early and at - early[0] <= SKEW:   # its read was stamped first
                if early[1].tid != c.tid:
                    tl.events.append(Event(c.start, c.tid, "message", f"{early[1].result} B",
                                           early[1].tid, early[0]))
                left = int(c.result) - int(early[1].result)
                if left > 0:
                    queues.setdefault(key, []).append([c.start, c.tid, left])
            else:
                queues.setdefault(key, []).append([c.start, c.tid, int(c.result)])
        elif c.name in RECEIVES and c.result == "0":
            tl.events.append(Event(at, c.tid, "eof", f"{c.name} = 0"))
        elif c.name in RECEIVES and c.result.isdigit() and int(c.result) > 0:
            queue, left = queues.get(key, []), int(c.result)
            if not queue:
                waiting[key] = (at, c)
                continue
            sent, writer = queue[0][0], queue[0][1]
            while queue and left > 0:
                used = min(left, queue[0][2])
                queue[0][2] -= used
                left -= used
                if queue[0][2] == 0:
                    queue.pop(0)
            if writer != c.tid:
                tl.events.append(Event(sent, writer, "message", f"{c.result} B", c.tid, at))


def lanes(tl):
    """Lane order: each process when it was created, its threads under it."""
    order = []
    for t in sorted(tl.tasks.values(), key=lambda t: (t.start, t.tid)):
        if not t.thread:
            order.append(t)
            order.extend(sorted((u for u in tl.tasks.values()
                                 if u.thread and u.process == t.tid), key=lambda u: u.start))
    order.extend(t for t in tl.tasks.values() if t not in order)
    return order


def lane_label(t, word):
    return f"{word('thread')} {t.tid}" if t.thread else f"{t.name} {t.tid}"


def ms(tl, time):
    return (time - tl.start) * 1000.0


def event_text(tl, e, word):
    """One event in words (translated) and code (not)."""
    kinds = {"created": "created", "thread": "new thread", "exited": "exited",
             "killed": "killed by", "reaped": "reaped", "sent": "sent",
             "received": "received", "message": "message", "blocked": "blocked in",
             "eof": "end of file"}
    code = e.code
    if e.kind == "blocked":
        code = f"{e.code}() {ms(tl, e.until) - ms(tl, e.time):.1f} ms"
    elif e.kind == "message":
        code = f"{e.code} → {e.other} ({ms(tl, e.until):.1f} ms)"
    elif e.kind == "exec" or (e.kind == "eof" and "EPIPE" in code):
        return code   # "execve sh", "write: EPIPE": code only
    return f"{word(kinds[e.kind])} {code}" if code else word(kinds[e.kind])


def event_texts(tl, word):
    """The text alternative: every drawn event, in order of time."""
    names = {t.tid: lane_label(t, word) for t in tl.tasks.values()}
    items = [f"{ms(tl, e.time):.1f} ms — {names.get(e.tid, e.tid)}: {event_text(tl, e, word)}"
             for e in tl.events]
    if tl.dropped:
        items.append(f"{word('more events of these kinds are not listed')}: {tl.dropped}")
    return items


def nice_step(span_ms):
    for step in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000):
        if span_ms / step <= 8:
            return step
    return 20000


def esc(text):
    return html.escape(str(text), quote=True)


def svg(tl, word, ident, title):
    """The picture: lanes (name and pid) down, real time across. Colours come from
    the page (currentColor and classes styled in tutorial.css), so the theme's light
    and dark modes both apply; the viewBox scales it."""
    width, left, right, top, lane_h = 760, 150, 16, 34, 40
    order = lanes(tl)
    hidden = len(order) - MAX_LANES
    order = order[:MAX_LANES]
    row = {t.tid: i for i, t in enumerate(order)}
    height = top + lane_h * len(order) + (22 if hidden > 0 else 8)
    span = max(ms(tl, tl.end), 0.001)
    plot = width - left - right

    def x(time):
        return left + plot * min(max(ms(tl, time) / span, 0.0), 1.0)

    def y(tid):
        return top + lane_h * row[tid] + 28

    out = [f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'role="img" aria-labelledby="{ident}-title" aria-describedby="{ident}-events" '
           f'font-size="11">',
           f'<title id="{ident}-title">{esc(title)}</title>',
           '<defs><marker id="' + ident + '-arrow" viewBox="0 0 8 8" refX="7" refY="4" '
           'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
           '<path d="M0,0 L8,4 L0,8 z" fill="context-stroke"/></marker></defs>']
    step = nice_step(span)
    tick = 0.0
    out.append(f'<text class="tl-axis" x="{left}" y="11">{esc(word("time since the start (ms)"))}</text>')
    while tick <= span + 1e-9:
        tx = left + plot * tick / span
        out.append(f'<line class="tl-grid" x1="{tx:.1f}" y1="16" x2="{tx:.1f}" y2="{height - 6}"/>'
                   f'<text class="tl-axis" x="{tx:.1f}" y="26" text-anchor="middle">{tick:g}</text>')
        tick += step
    for t in order:
        ly = y(t.tid)
        out.append(f'<text class="tl-lane" x="4" y="{ly + 4}">{esc(lane_label(t, word))}</text>')
        out.append(f'<line class="tl-life" x1="{x(t.start):.1f}" y1="{ly}" x2="{x(t.end):.1f}" y2="{ly}"/>')
        if t.reaped and t.reaped > t.end and not t.thread:   # a zombie until reaped
            out.append(f'<line class="tl-zombie" x1="{x(t.end):.1f}" y1="{ly}" x2="{x(t.reaped):.1f}" '
                       f'y2="{ly}"><title>{esc(word("zombie"))}</title></line>')
    labels = {}   # lane -> right end of the last label in each of its two rows

    def label(tid, at, text, cls="tl-label"):
        ends = labels.setdefault(tid, [-1e9, -1e9])
        w, at = 6.7 * len(text), at + 5   # right of the marker
        for r in (0, 1):
            if at >= ends[r] + 4 and at + w <= width - 2:
                ends[r] = at + w
                out.append(f'<text class="{cls}" x="{at:.1f}" y="{y(tid) - 8 - 12 * r}">{esc(text)}</text>')
                return

    for e in tl.events:
        if e.tid not in row:
            continue
        ex, ey = x(e.time), y(e.tid)
        text = esc(event_text(tl, e, word))
        if e.kind == "blocked":
            out.append(f'<rect class="tl-blocked" x="{ex:.1f}" y="{ey - 4}" '
                       f'width="{max(x(e.until) - ex, 1.0):.1f}" height="8"><title>{text}</title></rect>')
            label(e.tid, ex, e.code)
        elif e.kind in ("created", "thread") and e.other in row:
            out.append(f'<line class="tl-fork" x1="{ex:.1f}" y1="{ey}" x2="{ex:.1f}" y2="{y(e.other)}"/>'
                       f'<circle class="tl-start" cx="{ex:.1f}" cy="{y(e.other)}" r="3.5">'
                       f'<title>{text}</title></circle>')
        elif e.kind == "exec":
            out.append(f'<path class="tl-exec" d="M{ex:.1f},{ey - 5} l5,5 l-5,5 l-5,-5 z">'
                       f'<title>{text}</title></path>')
            label(e.tid, ex, e.code)
        elif e.kind in ("exited", "killed"):
            out.append(f'<rect class="tl-{e.kind}" x="{ex - 4:.1f}" y="{ey - 4}" width="8" height="8">'
                       f'<title>{text}</title></rect>')
            label(e.tid, ex, e.code if e.kind == "killed" else f"exit {e.code}",
                  f"tl-label tl-{e.kind}-label")
        elif e.kind == "reaped":
            if e.other in row:
                out.append(f'<line class="tl-reap" x1="{ex:.1f}" y1="{y(e.other)}" x2="{ex:.1f}" y2="{ey}" '
                           f'marker-end="url(#{ident}-arrow)"><title>{text}</title></line>')
            out.append(f'<circle class="tl-reaped" cx="{ex:.1f}" cy="{ey}" r="3.5"><title>{text}</title></circle>')
            label(e.tid, ex, f"wait {e.code}")
        elif e.kind == "sent":
            if e.other in row:
                out.append(f'<line class="tl-signal" x1="{ex:.1f}" y1="{ey}" x2="{ex:.1f}" y2="{y(e.other)}" '
                           f'marker-end="url(#{ident}-arrow)"><title>{text}</title></line>')
            label(e.tid, ex, e.code.split(" →")[0])
        elif e.kind == "received":
            out.append(f'<circle class="tl-got" cx="{ex:.1f}" cy="{ey}" r="2.5"><title>{text}</title></circle>')
            if e.code != "SIGCHLD":
                label(e.tid, ex, e.code)
        elif e.kind == "message" and e.other in row:
            out.append(f'<line class="tl-message" x1="{ex:.1f}" y1="{ey}" x2="{x(e.until):.1f}" '
                       f'y2="{y(e.other)}" marker-end="url(#{ident}-arrow)"><title>{text}</title></line>')
        elif e.kind == "eof":
            out.append(f'<circle class="tl-eof" cx="{ex:.1f}" cy="{ey}" r="3.5"><title>{text}</title></circle>')
            label(e.tid, ex, "EPIPE" if "EPIPE" in e.code else "EOF")
    if hidden > 0:
        out.append(f'<text class="tl-axis" x="4" y="{height - 6}">'
                   f'+{hidden} {esc(word("more lanes: see the event list"))}</text>')
    out.append("</svg>")
    return "\n".join(out)


def strace_argv(output, command):
    """The command the build runs, and a reader types, to trace a run."""
    return ["strace", *STRACE_OPTIONS, "-o", output, "-e", f"trace={TRACE_CALLS}", *command]


def main(argv):
    if len(argv) > 4 and argv[1] == "strace" and argv[3] == "--":
        try:
            os.execvp("strace", strace_argv(argv[2], argv[4:]))
        except OSError as e:
            print(f"timeline: cannot run strace ({e}); it is Debian's package strace",
                  file=sys.stderr)
            return 1
    if len(argv) != 3 or argv[1] not in ("check", "svg"):
        print("usage:\n" + __doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    try:
        with open(argv[2], encoding="utf-8", errors="replace") as f:
            tl = model(f.read())
    except (OSError, TraceError) as e:
        print(f"timeline: {argv[2]}: {e}", file=sys.stderr)
        return 1
    if argv[1] == "svg":
        print(svg(tl, lambda w: w, "tl", argv[2]))
    else:
        kinds = {}
        for e in tl.events:
            kinds[e.kind] = kinds.get(e.kind, 0) + 1
        print(f"{argv[2]}: {len(tl.tasks)} lanes, {ms(tl, tl.end):.1f} ms, "
              + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
