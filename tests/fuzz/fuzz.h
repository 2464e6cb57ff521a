/* What every fuzz target defines. Built with clang and -fsanitize=fuzzer they are libFuzzer
 * programs; built with replay.c (any compiler) they run the committed inputs once each, so
 * that the seed corpora and every past finding are regression tests of the ordinary builds. */
#ifndef MUTUAL_FUZZ_H
#define MUTUAL_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
