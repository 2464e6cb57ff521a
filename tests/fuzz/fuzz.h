/* What every fuzz target defines. Built with clang and -fsanitize=fuzzer they are libFuzzer
 * programs; built with replay.c (any compiler) they run the committed inputs once each, so
 * that the seed corpora and every past finding are regression tests of the ordinary builds. */
#ifndef MUTUAL_FUZZ_H
#define MUTUAL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Where a target keeps its files: MUTUAL_FUZZ_TMP (run.sh gives each run its own and removes
 * it, since a crashing target leaves its files behind), else a memory file system. */
static inline const char *fuzz_tmpdir(void)
{
    const char *t = getenv("MUTUAL_FUZZ_TMP");
    return t && *t ? t : access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
}

#endif
