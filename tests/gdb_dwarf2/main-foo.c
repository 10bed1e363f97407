/* main calls foo; the descriptions put each function in a unit of its own. No debug info. */
int foo(void) { return 0; }

int main(void) { return foo(); }
