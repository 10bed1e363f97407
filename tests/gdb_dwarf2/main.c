/* A program with no debug info of its own: the descriptions give it its DWARF. */
int main(void) { return 0; }
