/* Three functions without debug info; the description places a global's value by the function running. */
void func1(void) { }
void func2(void) { }
int main(void) { func1(); func2(); return 0; }
