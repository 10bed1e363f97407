/* Two 8-byte buffers that the description's Rust enums are read over: buffer holds the discriminant 23 and the
   payload 23, buffer2 the discriminant -1 (as an i8) and the payload 23. No debug info. */
unsigned char buffer[8];
unsigned char buffer2[8];

static void func(void) { }

int main(void) {
  buffer[0] = 23;   /* x86_64 and aarch64 are little-endian */
  buffer[4] = 23;
  buffer2[0] = 255;
  buffer2[4] = 23;
  func();
  return 0;
}
