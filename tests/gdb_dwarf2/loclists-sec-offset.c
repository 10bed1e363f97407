/* Four functions without debug info; the description places two globals' values by the function running. */
void func1(void) { }
void func2(void) { }
void func3(void) { }
void func4(void) { }

int main(void) { func1(); func2(); func3(); func4(); return 0; }
