// OpenBLAS's CBLAS interface (Debian: libopenblas-dev), used for prefill GEMM on Linux.
#include <cblas.h>
void openblas_set_num_threads(int num_threads);
