/* A check of MessagePack's declared sizes against the bytes that carry them, made before a
 * frame is handed to msgpack-c: its unpacker allocates what an array or map header declares
 * (an array header of 14 bytes can ask for 64 GiB), before it finds that the elements are not
 * there. */
#include "proto.h"

static uint64_t be(const unsigned char *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

bool mu_msgpack_bounded(const void *buf, size_t len)
{
    const unsigned char *b = buf;
    size_t at = 0;
    /* Values still to read; every one takes at least one byte, so it can never be more than
     * the bytes left. Container sizes fit in 32 bits, so this cannot overflow. */
    uint64_t need = 1;
    while (need > 0) {
        if (at >= len)
            return false;
        unsigned t = b[at++];
        need--;
        uint64_t payload = 0, items = 0;
        unsigned lenbytes = 0, extra = 0;
        if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3) {
            continue; /* fixint, nil, booleans */
        } else if (t <= 0x8f) {
            items = 2 * (uint64_t)(t & 0x0f);
        } else if (t <= 0x9f) {
            items = t & 0x0f;
        } else if (t <= 0xbf) {
            payload = t & 0x1f;
        } else {
            switch (t) {
            case 0xc4:
            case 0xd9: lenbytes = 1; break; /* bin8, str8 */
            case 0xc5:
            case 0xda: lenbytes = 2; break; /* bin16, str16 */
            case 0xc6:
            case 0xdb: lenbytes = 4; break; /* bin32, str32 */
            case 0xc7:
                lenbytes = 1;
                extra = 1;
                break; /* ext8 */
            case 0xc8:
                lenbytes = 2;
                extra = 1;
                break; /* ext16 */
            case 0xc9:
                lenbytes = 4;
                extra = 1;
                break;                     /* ext32 */
            case 0xca: payload = 4; break; /* float32 */
            case 0xcb: payload = 8; break; /* float64 */
            case 0xcc:
            case 0xd0: payload = 1; break;
            case 0xcd:
            case 0xd1: payload = 2; break;
            case 0xce:
            case 0xd2: payload = 4; break;
            case 0xcf:
            case 0xd3: payload = 8; break;
            case 0xd4: payload = 2; break; /* fixext 1..16 */
            case 0xd5: payload = 3; break;
            case 0xd6: payload = 5; break;
            case 0xd7: payload = 9; break;
            case 0xd8: payload = 17; break;
            case 0xdc:
            case 0xde: lenbytes = 2; break; /* array16, map16 */
            case 0xdd:
            case 0xdf: lenbytes = 4; break; /* array32, map32 */
            default: return false;          /* 0xc1: never used */
            }
            if (lenbytes) {
                if (len - at < lenbytes)
                    return false;
                uint64_t n = be(b + at, lenbytes);
                at += lenbytes;
                if (t == 0xdc || t == 0xdd)
                    items = n;
                else if (t == 0xde || t == 0xdf)
                    items = 2 * n;
                else
                    payload = n + extra;
            }
        }
        if (payload > len - at)
            return false;
        at += payload;
        need += items;
        if (need > len - at)
            return false;
    }
    return true;
}
