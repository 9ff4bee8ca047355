/*  wsframe.c: following a client's WebSocket frame headers. See wsframe.h.
 *
 *  A frame is: a byte of flags and opcode; a byte of mask flag and 7-bit
 *  length; 2 or 8 more length bytes when that length is 126 or 127; the
 *  4-byte masking key when masked; the payload.
 */
#include "wsframe.h"

#include <string.h>

enum { S_FLAGS = 0, S_LENGTH, S_LENGTH_MORE, S_KEY, S_PAYLOAD };

void
wsframe_init (wsframe_t *self)
{
    memset (self, 0, sizeof *self);
}

int
wsframe_feed (wsframe_t *self, const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n && !self->unmasked) {
        unsigned char c = p[i];
        switch (self->stage) {
            case S_FLAGS:
                self->stage = S_LENGTH;
                i++;
                break;
            case S_LENGTH: {
                if (!(c & 0x80)) {
                    self->unmasked = 1;
                    break;
                }
                unsigned len7 = c & 0x7f;
                i++;
                if (len7 < 126) {
                    self->payload = len7;
                    self->count = 4;
                    self->stage = S_KEY;
                }
                else {
                    self->payload = 0;
                    self->count = len7 == 126 ? 2 : 8;
                    self->stage = S_LENGTH_MORE;
                }
                break;
            }
            case S_LENGTH_MORE:
                self->payload = (self->payload << 8) | c;
                i++;
                if (--self->count == 0) {
                    self->count = 4;
                    self->stage = S_KEY;
                }
                break;
            case S_KEY:
                i++;
                if (--self->count == 0)
                    self->stage = self->payload ? S_PAYLOAD : S_FLAGS;
                break;
            case S_PAYLOAD: {
                size_t take = n - i;
                if (take > self->payload)
                    take = (size_t) self->payload;
                self->payload -= take;
                i += take;
                if (self->payload == 0)
                    self->stage = S_FLAGS;
                break;
            }
        }
    }
    return self->unmasked;
}
