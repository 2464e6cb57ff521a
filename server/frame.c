/* Frames (see frame.h). Layer: base (calls nothing of the server's above it). */
#include "frame.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void frame_enc_init(mu_enc *e)
{
    mu_enc_init(e, FRAME_RESERVE);
}

mu_frame *frame_from_enc(mu_enc *e)
{
    size_t total;
    char *buf = mu_enc_release(e, &total);
    if (!buf)
        xalloc_die(total); /* the encoder could not grow its buffer */
    size_t n = total - FRAME_RESERVE;
    unsigned char hdr[FRAME_RESERVE];
    size_t h;
    /* Server frames are unmasked: FIN + binary, then a 7-bit, 16-bit or 64-bit length. */
    hdr[0] = 0x82;
    if (n < 126) {
        hdr[1] = (unsigned char)n;
        h = 2;
    } else if (n <= 0xFFFF) {
        hdr[1] = 126;
        hdr[2] = (unsigned char)(n >> 8);
        hdr[3] = (unsigned char)n;
        h = 4;
    } else {
        hdr[1] = 127;
        for (int i = 0; i < 8; i++)
            hdr[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
        h = 10;
    }
    mu_frame *f = xmalloc(sizeof(*f));
    memcpy(buf + FRAME_RESERVE - h, hdr, h);
    f->refs = 1;
    f->base = buf;
    f->data = buf + FRAME_RESERVE - h;
    f->len = (uint32_t)(n + h);
    f->room = 0;
    return f;
}

mu_frame *frame_ref(mu_frame *f)
{
    f->refs++;
    return f;
}

void frame_unref(mu_frame *f)
{
    if (f && --f->refs == 0) {
        free(f->base);
        free(f);
    }
}

mu_frame *frame_close(mu_close_code code)
{
    mu_frame *f = xmalloc(sizeof(*f));
    char *buf = xmalloc(4);
    buf[0] = (char)0x88; /* FIN + close */
    buf[1] = 2;
    buf[2] = (char)((code >> 8) & 0xff);
    buf[3] = (char)(code & 0xff);
    f->refs = 1;
    f->base = buf;
    f->data = buf;
    f->len = 4;
    f->room = 0;
    return f;
}
