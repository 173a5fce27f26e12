/* A tiny shared library with every kind of dynamic relocation the ELF report counts. */
#include <stdio.h>
extern int errno_like;                              /* R_ARM_GLOB_DAT and R_ARM_ABS32 */
static const char *names[] = {"a", "b", "c", "d"};  /* R_ARM_RELATIVE in .data.rel.ro */
const char *const *table = names;
int counter = 5;                                    /* .data */
char scratch[20000];                                /* .bss, several pages */
int *ext = &errno_like;
int f(int i) { scratch[i] = 1; printf("%s\n", names[i & 3]); return counter + errno_like; }
