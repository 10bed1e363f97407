/* main and doit, the code that imported-unit.yaml describes as main and the method Foo::doit. No debug info. */
int doit(void) { return 1; }

int main(void) { return doit() - 1; }
