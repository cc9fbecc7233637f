#!/usr/bin/python3
"""Unit tests of tools/timeline.py on two traces recorded by the build
(strace -f -ttt -T -q -yy ..., see tools/timeline.py) and on broken copies of them.

    test_timeline.py        (CTest: tools.timeline, label unit)
"""
import os
import re
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import timeline  # noqa: E402


def recorded(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        return f.read()


def texts(tl):
    return timeline.event_texts(tl, lambda w: w)


class RecordedTraces(unittest.TestCase):
    def test_sigpipe(self):
        """The writer gets EPIPE, SIGPIPE kills it, its parent reaps it."""
        tl = timeline.model(recorded("pipe_sigpipe_broken.strace"))
        self.assertEqual(sorted(tl.tasks), [29309, 29310])
        child = tl.tasks[29310]
        self.assertEqual((child.parent, child.status), (29309, "SIGPIPE"))
        self.assertAlmostEqual(child.reaped, 1796063423.636222 + 0.0, places=3)
        events = texts(tl)
        order = [next(i for i, e in enumerate(events) if needle in e) for needle in
                 ("29309: created clone → 29310", "29310: write: EPIPE",
                  "29310: received SIGPIPE", "29310: killed by SIGPIPE",
                  "29309: reaped 29310", "29309: exited 0")]
        self.assertEqual(order, sorted(order), events)
        # Three lines of 7 bytes went through the pipe; the first read took the first.
        messages = [e for e in tl.events if e.kind == "message"]
        self.assertEqual([(m.tid, m.other, m.code) for m in messages], [(29310, 29309, "7 B")])

    def test_fork_exec(self):
        """The child keeps its pid through execve and takes the new program's name; its
        output reaches the parent through the pipe, then end of file, then the reap."""
        tl = timeline.model(recorded("fork_exec.strace"))
        self.assertEqual({t.tid: t.name for t in tl.tasks.values()},
                         {27926: "fork_exec", 27927: "sh"})
        events = texts(tl)
        order = [next(i for i, e in enumerate(events) if needle in e) for needle in
                 ("fork_exec 27926: created clone → 27927", "sh 27927: execve sh",
                  "sh 27927: message 6 B → 27926", "fork_exec 27926: end of file read = 0",
                  "sh 27927: exited 0", "fork_exec 27926: reaped 27927")]
        self.assertEqual(order, sorted(order), events)

    def test_socket_message_stamped_late(self):
        """socketpair_skew.strace (a 10-line C program: a socketpair, a fork, one 4-byte
        message, kill, wait): the child's read returned at .836562, before the
        parent's write was stamped at .836582 (ptrace stops each side in turn). The
        message is still matched, across the two ends of the socket."""
        tl = timeline.model(recorded("socketpair_skew.strace"))
        messages = [(e.tid, e.other, e.code) for e in tl.events if e.kind == "message"]
        self.assertEqual(messages, [(19823, 19824, "4 B")])
        self.assertIn("k 19823: end of file read = 0", " | ".join(texts(tl)))

    def test_signals_and_blocking(self):
        """SIGTERM sent and received, SIGKILL after a bounded poll, reaped twice."""
        tl = timeline.model(recorded("join_terminate.strace"))
        events = texts(tl)
        sent = [e for e in events if ": sent " in e]
        self.assertEqual(len(sent), 3, events)
        self.assertTrue(any("kill SIGKILL → " in e for e in sent), sent)
        self.assertEqual(sum(": reaped " in e for e in events), 2, events)
        self.assertTrue(any(re.search(r"blocked in poll\(\) 2\d\d\.\d ms", e) for e in events), events)
        killed = [t for t in tl.tasks.values() if t.status == "SIGKILL"]
        self.assertEqual(len(killed), 1)

    def test_picture(self):
        """One lane per process, named with its pid; every drawn word comes from WORDS."""
        used = set()

        def word(text):
            used.add(text)
            return f"<<{text}>>"
        for trace in ("join_terminate.strace", "fork_exec.strace", "pipe_sigpipe_broken.strace"):
            drawn = timeline.model(recorded(trace))
            timeline.svg(drawn, word, "t0", "title")
            timeline.event_texts(drawn, word)
        tl = timeline.model(recorded("join_terminate.strace"))
        svg = timeline.svg(tl, word, "t1", "title")
        self.assertTrue(svg.startswith('<svg class="timeline"'))
        lanes = re.findall(r'<text class="tl-lane"[^>]*>([^<]*)</text>', svg)
        self.assertEqual(len(lanes), len(tl.tasks))
        self.assertTrue(all(re.fullmatch(r"join_terminate \d+", lane) for lane in lanes), lanes)
        self.assertTrue(used and used <= set(timeline.WORDS), used - set(timeline.WORDS))
        self.assertIn('aria-describedby="t1-events"', svg)


class InterruptedCalls(unittest.TestCase):
    def test_restarted_by_a_signal(self):
        """A wait cut short by SIGCHLD ends "= ? ERESTART_RESTARTBLOCK (...)" (seen in
        the conditions example): a finished call, not a broken trace."""
        calls = timeline.parse(
            "7 1.000000 futex(0x7f, FUTEX_WAIT_BITSET, 0, NULL, FUTEX_BITSET_MATCH_ANY"
            " <unfinished ...>\n"
            "7 1.000400 <... futex resumed>) = ? ERESTART_RESTARTBLOCK"
            " (Interrupted by signal) <0.000415>\n")
        self.assertEqual([(c.name, c.errno) for c in calls],
                         [("futex", "ERESTART_RESTARTBLOCK")])


class BrokenTraces(unittest.TestCase):
    def broken(self, text, message):
        with self.assertRaises(timeline.TraceError) as caught:
            timeline.model(text)
        self.assertRegex(str(caught.exception), message)

    def test_empty(self):
        self.broken("", "empty")

    def test_not_strace(self):
        lines = recorded("pipe_sigpipe_broken.strace").splitlines()
        lines[4] = "hello, world"
        self.broken("\n".join(lines), r"^line 5: ")

    def test_cut_short(self):
        """A trace cut in the middle of a line (a full disk, a killed tracer)."""
        text = recorded("pipe_sigpipe_broken.strace")
        cut = text[:text.index("write(4<pipe:[1057886]>, \"line 1") + 20]
        self.broken(cut, r"^line 7: not a finished call")

    def test_resumed_without_start(self):
        lines = [line for line in recorded("pipe_sigpipe_broken.strace").splitlines()
                 if "read(3<pipe" not in line]
        self.broken("\n".join(lines), r"read resumed but never started")

    def test_call_while_unfinished(self):
        lines = [line for line in recorded("pipe_sigpipe_broken.strace").splitlines()
                 if "<... write resumed>" not in line]
        self.broken("\n".join(lines), r"starts a call while write\(\) is unfinished")


if __name__ == "__main__":
    unittest.main()
