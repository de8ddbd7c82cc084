#!/usr/bin/env python3
# fuzz/make_seeds.py - writes the hand-made seed corpora of the runtime
# targets, fuzz/corpus/api_sequence/ and fuzz/corpus/echo_read/: each seed
# spelled out in the byte formats documented at the top of
# fuzz/api_sequence_fuzz.c and fuzz/echo_read_fuzz.c.  Run it after changing
# a format, then check: build/tests/replay_<name> fuzz/corpus/<name>.
import os

here = os.path.dirname(os.path.abspath(__file__))

# ---- api_sequence ------------------------------------------------------------
d = os.path.join(here, 'corpus', 'api_sequence')
os.makedirs(d, exist_ok=True)
SEND,SEND2,TRYSEND,TRYRECV,SELNB,CLOSE,RECVC,PANIC,MUTEX,RW,RL,WG,COND,TIMER,TICKER,AF,SLEEP,GOSCHED,GMP,PHASE=range(20)
def hdr(nw=4,procs=0,capb=0b11100100,elemb=0b00100100): return [nw-2,procs,capb,elemb]
seeds={}
# slots: caps {0,1,2,5}[(capb>>2i)&3] -> capb 0b11100100: slot0 cap0, slot1 cap1, slot2 cap2, slot3 cap5
seeds['chan_pairs']=hdr()+[SEND,0,0,0,0, SEND,0,0,0,1, SEND,1,1,0,0x11, SEND,3,2,1,0x03, SEND,3,2,1,0x05, SEND,2,1,2,0x18, SEND2,0,0,0,0x31]
seeds['chan_pairs_crossed']=hdr(nw=3)+[SEND,0,0,0,0, SEND,1,1,0,0, SEND,0,0,0,1, SEND,1,1,0,1, SEND,2,2,0,0, SEND,0,0,0,0]
seeds['spsc_trysend_close_drain']=hdr()+[SEND,3,0,0,0, TRYSEND,3,0, TRYSEND,3,0, SEND,3,0,0,0, TRYSEND,3,0, CLOSE,3,0,0,1, PHASE,1<<3|1,0, RECVC,3,1,0]
seeds["close_wakes_drainer"]=hdr(nw=2)+[CLOSE,0,0,0,0, CLOSE,1,1,0,1, CLOSE,2,0,0,2, PHASE,4,0, RECVC,0,0,0, RECVC,1,1,1, TRYRECV,0,1]
seeds['loose_mpmc']=hdr(nw=6)+[TRYSEND,3,0, TRYSEND,3,1, TRYSEND,3,2, TRYRECV,3,3, TRYRECV,3,4, TRYSEND,2,5, TRYRECV,2,0, SELNB,1,0b11001100,0, SELNB,2,0b00001100,1, PHASE,4,0, TRYRECV,3,1, TRYRECV,3,2]
seeds['select_nil_default']=hdr()+[SELNB,0,0,1, SELNB,1,0b00010001,0]
seeds['closed_channel_ops']=hdr(nw=5)+[TRYSEND,3,0, TRYSEND,3,1, PHASE,3<<3|0,0, RECVC,3,0,0, RECVC,3,1,1, TRYRECV,3,2, SELNB,3,0b00001000,2, SELNB,4,0b00001001,3, PANIC,3,0,0, PANIC,3,1,1, PANIC,3,2,2, PANIC,3,3,3, PANIC,0,4,4, TRYSEND,3,1]
seeds['free_and_make']=hdr()+[TRYSEND,3,0, TRYSEND,3,1, PHASE,3<<3|1,0, PHASE,3<<3|2,0b1011, SEND,3,0,0,0, TRYSEND,3,0, PHASE,2<<3|1,0, PHASE,2<<3|2,0b0100, SEND,2,1,1,0]
seeds['mutex']=hdr(nw=8)+[MUTEX,0,0, MUTEX,1,1, MUTEX,2,2, MUTEX,3,3, MUTEX,4,4, MUTEX,5,7, MUTEX,6,6, MUTEX,7,0]
seeds['rwmutex']=hdr(nw=6)+[RW,0,0, RL,1,0, RL,2,2, RW,3,1, RL,4,3, RW,5,6, RL,0,4, RL,1,1, RW,2,2]
seeds['waitgroup']=hdr(nw=5)+[WG,0,0b11110, WG,1,0b10101, WG,4,0xff, WG,2,0, SEND,0,0,0,0, WG,0,0b00010]
seeds['cond']=hdr(nw=5)+[COND,0,0b11110,0, COND,1,0b00100,1, COND,2,0b11011,0, COND,3,0,0]
seeds['timers']=hdr(nw=3)+[TIMER,0,0,10, TIMER,1,1,0, TIMER,2,2,20, TIMER,0,3,1, TIMER,1,3,2, TIMER,2,4,5, TIMER,0,4,6, TIMER,1,5,30]
seeds['ticker']=hdr(nw=2)+[TICKER,0,0,10, TICKER,1,2,50, TICKER,0,8|1,20, TICKER,1,8|4|2,5]
seeds['afterfunc']=hdr(nw=3)+[AF,0,0,5, AF,1,1,0, AF,2,2,10, AF,0,2,0, AF,1,0,0]
seeds['sleep_gosched_gomaxprocs']=hdr(nw=4,procs=1)+[SLEEP,0,1, SLEEP,1,0, GOSCHED,2, GMP,3,1, SEND,0,0,0,0, GMP,0,0, SLEEP,2,49, PHASE,3,2, GOSCHED,1, SEND,1,1,0,0]
seeds['mixed']=hdr(nw=8,procs=2,capb=0b01101100)+[SEND,0,0,0,0, MUTEX,1,2, WG,2,0b11000001, TRYSEND,3,4, COND,5,0b1010,1, TIMER,6,2,3, SEND,0,0,0,0x11, AF,7,2,2, RL,3,0, SELNB,4,0b10001000,0, CLOSE,0,0,0,2, TICKER,2,1,9, GMP,1,2, PHASE,0,0, RECVC,0,5,1, PANIC,0,6,0, SEND,1,2,3,1, GOSCHED,4]
for k,v in seeds.items():
    open(os.path.join(d,k),'wb').write(bytes(v))
# spinning sides: send by trysend loop (v bit 3), recv by tryrecv loop ((v>>4) bit 2)
# the same channel twice in one select: send (v bits 1-2 = 3), recv ((v>>4) bits 0, 3),
# and select_nb's first case again (v bit 2)
extra={'select_duplicates': hdr(nw=3)+[SEND,0,0,0,0x07, SEND,0,0,0,0x97, SEND,3,1,2,0x90, SEND,3,1,2,0x07, TRYSEND,2,0, SELNB,1,0b00000100,4, SELNB,2,0b01000100,5, TRYRECV,2,2],
       'chan_spin': hdr(nw=3)+[SEND,0,0,0,0x08, SEND,0,0,0,0x40, SEND,1,1,1,0x08, SEND,1,1,1,0x41, SEND,3,2,0,0x48, SEND,0,0,0,0x09]}
for k,v in extra.items():
    open(os.path.join(d,k),'wb').write(bytes(v))

# ---- echo_read ----------------------------------------------------------------
d = os.path.join(here, 'corpus', 'echo_read')
os.makedirs(d, exist_ok=True)

def chunks(*cs):
    out = b''
    for c in cs:
        out += bytes([len(c)]) + c
    return out

seeds = {
    'ending0_hello': bytes([0, 0, 0]) + chunks(b'hello, ', b'world\n'),
    'ending0_empty': bytes([0, 0, 0]),
    'ending0_zero_chunk_yield': bytes([8, 0, 0]) + chunks(b'', b'abc', b'', b'defgh'),
    'ending0_big_p2': bytes([0x40 | 0x10, 0, 0]) + chunks(bytes(range(255)), bytes(range(255, 0, -1)), b'x' * 200),
    'ending1_smallbuf': bytes([1 | 32, 0, 3]) + chunks(b'0123456789' * 20, b'tail'),
    'ending1_p1': bytes([1 | 0x40 | 8, 0, 0]) + chunks(b'ping', b'pong'),
    'ending2_half_closewrite': bytes([2 | 4, 128, 0]) + chunks(b'a' * 100, b'b' * 100, b'c' * 55),
    'ending2_quarter': bytes([2 | 16, 64, 0]) + chunks(b'q' * 250, b'r' * 250),
    'ending3_hangup': bytes([3 | 0x80, 100, 0]) + chunks(b'z' * 255, b'y' * 255, b'x' * 255, b'w' * 255),
    'ending3_hangup_first_smallbuf': bytes([3 | 32 | 8, 0, 7]) + chunks(b'k' * 90, b'l' * 90),
}
for k, v in seeds.items():
    open(os.path.join(d, k), 'wb').write(v)
