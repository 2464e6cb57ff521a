/* Text primitives of the protocol: UTF-8, handles, slugs, dates. */
#include "proto.h"

bool mu_utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false; /* continuation byte, overlong lead (C0, C1) or beyond F4 */
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return false; /* overlong or out of Unicode */
        if (cp >= 0xD800 && cp <= 0xDFFF)
            return false; /* surrogates are not characters */
        i += len;
    }
    return true;
}

bool mu_handle_fold(const char *in, size_t n, char out[MU_HANDLE_MAX + 1])
{
    if (n < MU_HANDLE_MIN || n > MU_HANDLE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return false;
        out[i] = c;
    }
    out[n] = 0;
    return true;
}

bool mu_slug_valid(const char *s, size_t n)
{
    if (n < 1 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date, in 400-year eras so that no table is
 * needed and leap years fall out of the arithmetic. */
static int32_t days_from_civil(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool mu_date_parse(const char *s, size_t n, int32_t *days)
{
    if (n != 10 || s[4] != '-' || s[7] != '-')
        return false;
    int v[3] = {0, 0, 0};
    const int pos[3][2] = {{0, 4}, {5, 2}, {8, 2}};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < pos[k][1]; i++) {
            char c = s[pos[k][0] + i];
            if (c < '0' || c > '9')
                return false;
            v[k] = v[k] * 10 + (c - '0');
        }
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (v[0] < 1900 || v[1] < 1 || v[1] > 12 || v[2] < 1)
        return false;
    int lim = mdays[v[1] - 1] + (v[1] == 2 && is_leap(v[0]));
    if (v[2] > lim)
        return false;
    if (days)
        *days = days_from_civil(v[0], (unsigned)v[1], (unsigned)v[2]);
    return true;
}

void mu_date_format(int32_t z, char out[11])
{
    z += 719468;
    const int era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int y = (int)yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    y %= 10000;
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = 0;
}
