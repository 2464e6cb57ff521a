/* Standard input as lines, on the loop, for the interactive modes (dm, join): a terminal or a
 * pipe is read as it comes; a file is read whole at the start. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void on_alloc(uv_handle_t *h, size_t want, uv_buf_t *buf)
{
    static char chunk[4096];
    (void)h;
    (void)want;
    *buf = uv_buf_init(chunk, sizeof(chunk));
}

static void reader_line(line_reader *lr)
{
    lr->line[lr->len] = 0;
    lr->len = 0;
    if (lr->line[0])
        lr->on_line(lr->ud, lr->line);
}

static void on_stdin(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    line_reader *lr = st->data;
    if (n < 0) {
        if (lr->len)
            reader_line(lr);
        lr->eof = true;
        uv_read_stop(st);
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        char ch = buf->base[i];
        if (ch == '\n')
            reader_line(lr);
        else if (ch != '\r' && lr->len < sizeof(lr->line) - 1)
            lr->line[lr->len++] = ch;
    }
}

void reader_start(line_reader *lr, uv_loop_t *loop, line_fn fn, void *ud)
{
    /* lr->line and lr->len are kept: a reader started again (a meeting that reconnects) goes
     * on with a line that was half read when it stopped. */
    lr->on_line = fn;
    lr->ud = ud;
    uv_handle_type kind = uv_guess_handle(0);
    if (kind == UV_TTY) {
        uv_tty_init(loop, &lr->in.tty, 0, 1);
    } else if (kind == UV_NAMED_PIPE || kind == UV_TCP) {
        uv_pipe_init(loop, &lr->in.pipe, 0);
        uv_pipe_open(&lr->in.pipe, 0);
    } else {
        uv_pipe_init(loop, &lr->in.pipe, 0);
        while (!lr->eof && fgets(lr->line, sizeof(lr->line), stdin)) {
            lr->line[strcspn(lr->line, "\r\n")] = 0;
            lr->len = strlen(lr->line);
            reader_line(lr);
        }
        lr->eof = true;
    }
    lr->in.h.data = lr;
    lr->reading = !lr->eof;
    if (lr->reading)
        uv_read_start(&lr->in.s, on_alloc, on_stdin);
}

void reader_stop(line_reader *lr)
{
    if (lr->reading && !lr->eof)
        uv_read_stop(&lr->in.s);
    uv_close(&lr->in.h, NULL);
}
