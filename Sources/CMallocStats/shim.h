// glibc's allocator statistics, for the state-size measurement of salespulse-bench: heap bytes
// in use, which, unlike resident memory, go down when state is freed.
#include <malloc.h>
