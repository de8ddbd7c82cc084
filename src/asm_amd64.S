/*
 * asm_amd64.S - the only machine-dependent code: switching stacks.
 *
 * A saved context is just a stack pointer.  gort__mcall pushes the six
 * callee-saved registers of the System V ABI (rbp, rbx, r12-r15) on the
 * current stack, stores rsp, runs a scheduler function on the g0 stack and
 * resumes whichever G that returns; gort__gogo loads a saved rsp, pops the
 * six registers and jumps back into the saved code.  The
 * caller-saved registers need no saving: both are ordinary calls.  A new
 * goroutine's first frame (gort__gostartframe) is built so that gort__gogo
 * "returns" into gort__gostart, which calls gort__goentry(gp) in proc_g.c.
 *
 * The saved context's layout is a savedctx (runtime2.h), whose offsets
 * asm_amd64.h gives both this file and the C that reads it.
 *
 * Porting: an arm64 twin saves x19-x29, lr and d8-d15 the same way.
 */
#include "asm_amd64.h"
#include "tsan.h"

/* The pushes of SAVE_CONTEXT, last pushed lowest, and the return address
 * of the call above them build exactly this layout. */
#if SAVEDCTX_R15 != 0 || SAVEDCTX_R14 != 8 || SAVEDCTX_R13 != 16 || SAVEDCTX_R12 != 24 || \
    SAVEDCTX_RBX != 32 || SAVEDCTX_RBP != 40 || SAVEDCTX_PC != 48 || SAVEDCTX_SIZE != 56
#error "asm_amd64.S: SAVE_CONTEXT and RESUME_CONTEXT no longer match savedctx (asm_amd64.h)"
#endif

/* SAVE_CONTEXT: push a savedctx below the return address at rsp. */
.macro SAVE_CONTEXT
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
.endm

/* RESUME_CONTEXT: pop the savedctx at rsp and jump to its pc - a jump,
 * rather than ret: keeps the return-stack predictor in step (see
 * gort__mcall). */
.macro RESUME_CONTEXT
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	popq	%rcx
	jmp	*%rcx
.endm

/* ENTER_FRAME: push rbp and point it at the new frame, with the CFI that
 * tells an unwinder so. */
.macro ENTER_FRAME
	pushq	%rbp
	.cfi_def_cfa_offset 16
	.cfi_offset rbp, -16
	movq	%rsp, %rbp
	.cfi_def_cfa_register rbp
.endm

	.text

/*
 * G *gort__mcall(void **savesp, void *g0sp, G *(*fn)(void *), void *arg)
 * Saves the running context in *savesp, moves to the g0 stack and calls
 * fn(arg) there.  fn returns the G to run next, ready to go; mcall then
 * switches to it.  Because fn returns (rather than calling down into a
 * switch that never returns), every call on g0 is matched by a ret, and the
 * CPU's return-stack predictor still holds the calls of the goroutine that
 * blocked - which, in a channel hand-off, are the calls the next goroutine
 * returns through.
 */
	.globl	gort__mcall
	.hidden	gort__mcall
	.type	gort__mcall, @function
	.p2align 4
gort__mcall:
	.cfi_startproc
	SAVE_CONTEXT
	movq	%rsp, (%rdi)		/* *savesp = context */
	movq	%rsi, %rsp		/* onto g0: always its top, 16-byte aligned */
	movq	%rcx, %rdi
	call	*%rdx			/* rax = fn(arg), the next G */
#ifdef GORT_TSAN
	/* Tell ThreadSanitizer the next G's fiber runs from here (tsan.h):
	 * here, once fn's frames have returned on g0's fiber.  g0's context
	 * is dead (it restarts from its top), so rbx is free to keep rax. */
	movq	%rax, %rbx
	movq	G_TSAN_FIBER(%rax), %rdi
	xorl	%esi, %esi		/* flags 0: the switch synchronizes */
	call	__tsan_switch_to_fiber@PLT
	movq	%rbx, %rax
#endif
	movq	G_SCHED_SP(%rax), %rsp	/* its saved context */
	RESUME_CONTEXT
	.cfi_endproc
	.size	gort__mcall, .-gort__mcall

/* void gort__gogo(void *sp) */
	.globl	gort__gogo
	.hidden	gort__gogo
	.type	gort__gogo, @function
	.p2align 4
gort__gogo:
	.cfi_startproc
	movq	%rdi, %rsp
	RESUME_CONTEXT
	.cfi_endproc
	.size	gort__gogo, .-gort__gogo

/*
 * void *gort__gostartframe(uintptr_t stacktop, G *gp)
 * Lays out, below stacktop, the savedctx gort__gogo expects (rbx = gp,
 * rbp = 0 to end frame-pointer chains, pc = gort__gostart), then a zero
 * word and 8 bytes of padding, so that gort__gostart runs with rsp 16-byte
 * aligned.  Returns the stack pointer to give gort__gogo.
 */
	.globl	gort__gostartframe
	.hidden	gort__gostartframe
	.type	gort__gostartframe, @function
	.p2align 4
gort__gostartframe:
	.cfi_startproc
	andq	$-16, %rdi
	leaq	-(SAVEDCTX_SIZE + 16)(%rdi), %rax
	movq	$0, SAVEDCTX_R15(%rax)
	movq	$0, SAVEDCTX_R14(%rax)
	movq	$0, SAVEDCTX_R13(%rax)
	movq	$0, SAVEDCTX_R12(%rax)
	movq	%rsi, SAVEDCTX_RBX(%rax)	/* gp */
	movq	$0, SAVEDCTX_RBP(%rax)
	leaq	gort__gostart(%rip), %rcx
	movq	%rcx, SAVEDCTX_PC(%rax)
	movq	$0, SAVEDCTX_SIZE(%rax)	/* gort__gostart's own caller: none */
	ret
	.cfi_endproc
	.size	gort__gostartframe, .-gort__gostartframe

/* The bottom frame of every goroutine.  Unwinders stop here. */
	.globl	gort__gostart
	.hidden	gort__gostart
	.type	gort__gostart, @function
	.p2align 4
gort__gostart:
	.cfi_startproc
	.cfi_undefined rip
	movq	%rbx, %rdi
	call	gort__goentry		/* runs the goroutine, then gort_goexit */
	ud2
	.cfi_endproc
	.size	gort__gostart, .-gort__gostart

/*
 * void gort__calldefer(gort_func fn, void *arg, uintptr_t *sp)
 * Calls fn(arg) as a panic runs a deferred call, first storing the stack
 * pointer at the call in *sp: the deferred call's frame address is then
 * sp - 16 (return address, saved rbp), which is how gort__recover tells
 * that it was called directly by the deferred call (Go's argp check).
 */
	.globl	gort__calldefer
	.hidden	gort__calldefer
	.type	gort__calldefer, @function
	.p2align 4
gort__calldefer:
	.cfi_startproc
	ENTER_FRAME
	movq	%rsp, (%rdx)		/* 16-byte aligned: the call's sp */
	movq	%rdi, %rax
	movq	%rsi, %rdi
	call	*%rax
	popq	%rbp
	.cfi_def_cfa rsp, 8
	ret
	.cfi_endproc
	.size	gort__calldefer, .-gort__calldefer

/*
 * gort__sigpanic_tramp: the signal handler points a faulting goroutine here
 * (Go's sigpanic injection), having pushed the faulting pc as if the faulting
 * instruction had called us, so an unwinder sees the faulting frame as our
 * caller.  The faulting code's rsp may have any alignment: realign, under
 * a frame pointer the CFI describes, and call gort__sigpanic (noreturn).
 */
	.globl	gort__sigpanic_tramp
	.hidden	gort__sigpanic_tramp
	.type	gort__sigpanic_tramp, @function
	.p2align 4
gort__sigpanic_tramp:
	.cfi_startproc
	ENTER_FRAME
	andq	$-16, %rsp
	call	gort__sigpanic
	ud2
	.cfi_endproc
	.size	gort__sigpanic_tramp, .-gort__sigpanic_tramp

/*
 * void gort_entersyscall(void) - the public entry: builds a syscallctx on
 * its stack - the caller's context as gort__mcall would save it, plus the
 * caller's rsp after the return - and passes it to gort__entersyscall
 * (proc_syscall.c), which keeps it in the G: a goroutine in a system call
 * can then be traced from the point of the call, while its thread is in
 * the kernel (Go's syscallsp and syscallpc).
 */
	.globl	gort_entersyscall
	.type	gort_entersyscall, @function
	.p2align 4
gort_entersyscall:
	.cfi_startproc
	movq	(%rsp), %rax		/* the return address, in the caller */
	leaq	8(%rsp), %rcx		/* the caller's rsp once we return */
	subq	$(SYSCALLCTX_SIZE + 8), %rsp	/* 16-byte aligned for the call */
	.cfi_adjust_cfa_offset SYSCALLCTX_SIZE + 8
	movq	%r15, SAVEDCTX_R15(%rsp)
	movq	%r14, SAVEDCTX_R14(%rsp)
	movq	%r13, SAVEDCTX_R13(%rsp)
	movq	%r12, SAVEDCTX_R12(%rsp)
	movq	%rbx, SAVEDCTX_RBX(%rsp)
	movq	%rbp, SAVEDCTX_RBP(%rsp)
	movq	%rax, SAVEDCTX_PC(%rsp)
	movq	%rcx, SYSCALLCTX_SP(%rsp)
	movq	%rsp, %rdi
	call	gort__entersyscall
	addq	$(SYSCALLCTX_SIZE + 8), %rsp
	.cfi_adjust_cfa_offset -(SYSCALLCTX_SIZE + 8)
	ret
	.cfi_endproc
	.size	gort_entersyscall, .-gort_entersyscall

	.section .note.GNU-stack,"",@progbits
