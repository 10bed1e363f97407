/* Two functions that dw2-anonymous-func.yaml describes, one of them twice without a name. No debug info. */
int func_cu1(void) { return 0; }
int func_cu2(void) { return 0; }

int main(void) { return func_cu1() + func_cu2(); }
