// libFuzzer's driver entry point (compiler-rt FuzzerInterface.h), called from each target's main:
// SwiftPM names an executable's entry `<Target>_main`, so libFuzzer's own `main` cannot be used.
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
