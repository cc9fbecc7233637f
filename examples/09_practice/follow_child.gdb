# follow_child.gdb: gdb -batch -x follow_child.gdb --args ./debug_target
# Same output on every machine: no separate debug files for the C library.
set debug-file-directory /nonexistent
# At fork, follow the child and keep the parent (stopped) as inferior 1.
set follow-fork-mode child
set detach-on-fork off
run
# The child stopped at its SIGSEGV: where, and which processes gdb holds.
backtrace
info inferiors
# Back to the parent: it is stopped inside fork().
inferior 1
backtrace
