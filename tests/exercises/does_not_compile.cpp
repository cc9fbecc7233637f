// Bad input for tools/check.py: a file that does not compile (exit status 2).
int main() { return undeclared_name; }
