/*
 * asm_amd64.h - the layouts asm_amd64.S shares with C, as offsets in
 * bytes (Go generates the same thing as go_asm.h).  Numbers only: the
 * assembler includes this file too.  runtime2.h defines the structs and
 * checks every offset here against them with _Static_assert; the assembly
 * checks with #if that its pushes and pops lay a savedctx out this way.
 */
#ifndef GORT_ASM_AMD64_H
#define GORT_ASM_AMD64_H

/* G.sched_sp: where gort__mcall stores the address of the context it saved. */
#define G_SCHED_SP 0
/* G.tsan_fiber: the goroutine's ThreadSanitizer fiber (tsan.h). */
#define G_TSAN_FIBER 136

/* savedctx: the callee-saved registers and the pc to resume at, lowest
 * address first - what gort__mcall pushes and gort__gogo pops. */
#define SAVEDCTX_R15 0
#define SAVEDCTX_R14 8
#define SAVEDCTX_R13 16
#define SAVEDCTX_R12 24
#define SAVEDCTX_RBX 32
#define SAVEDCTX_RBP 40
#define SAVEDCTX_PC 48
#define SAVEDCTX_SIZE 56

/* syscallctx: a savedctx, then the stack pointer it resumes with. */
#define SYSCALLCTX_SP 56
#define SYSCALLCTX_SIZE 64

#endif /* GORT_ASM_AMD64_H */
