/* Fuzz target: the configuration file parser. Any file is either read, with every setting
 * inside its table range, or refused with "FILE:LINE: reason". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

static char path[256];

static void remove_file(void)
{
    unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(path, sizeof(path), "%s/mutual-fuzz-conf-XXXXXX", fuzz_tmpdir());
    int fd = mkstemp(path);
    if (fd < 0)
        abort();
    close(fd);
    atexit(remove_file);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    mu_config c;
    config_defaults(&c);
    char err[512] = "";
    if (config_load(&c, path, err, sizeof(err)) == 0) {
        size_t n;
        const cfg_setting *t = config_table(&n);
        for (size_t i = 0; i < n; i++) {
            const void *field = (const char *)&c + t[i].offset;
            if (t[i].type == CFG_UINT) {
                uint64_t v = *(const uint64_t *)field;
                if (v < t[i].min || v > t[i].max)
                    abort();
            } else if (t[i].type == CFG_STR || t[i].type == CFG_ENUM) {
                if (!*(char *const *)field)
                    abort();
            }
        }
        for (size_t i = 0; i < c.nhelp; i++)
            if (!c.help[i].name)
                abort();
    } else if (strncmp(err, path, strlen(path)) != 0 || !strchr(err, ':')) {
        abort(); /* a refusal names the file and the line */
    }
    config_free(&c);
    return 0;
}
