/*
 * cgocall_shims.S - the door every public call comes in by (Go's cgo
 * export wrappers and crosscall2/cgocallback; src/cgocall.c has the
 * story).
 *
 * For each function F of cgocall_api.list, the symbol F is this shim, and
 * the function itself is gort__impl_F (cgocall_rename.h):
 *
 *   F:  the thread's G set (a goroutine, or a foreign call already under
 *       way)?  jump to gort__impl_F: two loads, a test, a jump.
 *       Otherwise gort__cgocallback, with F's address in r11 and its name
 *       in r10.
 *
 * gort__cgocallback: the argument registers saved, gort__needm(name, ret)
 * binds the thread's extra M and its G and takes a P (it may park this
 * thread meanwhile); then the function is called with the caller's
 * registers and stack arguments as they were - the caller's return address
 * is popped (it waits in the M) and the call pushes ours in its slot, so
 * arguments passed on the stack are where the function looks for them.
 * Back from it, gort__dropm gives the P back to Psyscall, kills the G
 * until the next call and returns the caller's address, where we go with
 * the function's results (rax, rdx, xmm0, xmm1) restored.
 *
 * The unwinder stops here (.cfi_undefined rip): the frames above are the
 * host program's, not the goroutine's.
 */
	.text

/* the argument registers, on our frame; FRAME keeps rsp 16-aligned at the call */
#define SAVE_RDI 0
#define SAVE_RSI 8
#define SAVE_RDX 16
#define SAVE_RCX 24
#define SAVE_R8 32
#define SAVE_R9 40
#define SAVE_RAX 48 /* the vector register count of a variadic call */
#define SAVE_FN 56
#define SAVE_XMM 64 /* xmm0-7, 16 bytes each */
#define FRAME 200

	.globl	gort__cgocallback
	.hidden	gort__cgocallback
	.type	gort__cgocallback, @function
	.p2align 4
gort__cgocallback:
	.cfi_startproc
	.cfi_undefined rip
	subq	$FRAME, %rsp
	movq	%rdi, SAVE_RDI(%rsp)
	movq	%rsi, SAVE_RSI(%rsp)
	movq	%rdx, SAVE_RDX(%rsp)
	movq	%rcx, SAVE_RCX(%rsp)
	movq	%r8, SAVE_R8(%rsp)
	movq	%r9, SAVE_R9(%rsp)
	movq	%rax, SAVE_RAX(%rsp)
	movq	%r11, SAVE_FN(%rsp)
	movaps	%xmm0, SAVE_XMM+0(%rsp)
	movaps	%xmm1, SAVE_XMM+16(%rsp)
	movaps	%xmm2, SAVE_XMM+32(%rsp)
	movaps	%xmm3, SAVE_XMM+48(%rsp)
	movaps	%xmm4, SAVE_XMM+64(%rsp)
	movaps	%xmm5, SAVE_XMM+80(%rsp)
	movaps	%xmm6, SAVE_XMM+96(%rsp)
	movaps	%xmm7, SAVE_XMM+112(%rsp)

	movq	%r10, %rdi              /* the function's name, for messages */
	movq	FRAME(%rsp), %rsi       /* where the caller resumes */
	call	gort__needm

	movq	SAVE_RDI(%rsp), %rdi
	movq	SAVE_RSI(%rsp), %rsi
	movq	SAVE_RDX(%rsp), %rdx
	movq	SAVE_RCX(%rsp), %rcx
	movq	SAVE_R8(%rsp), %r8
	movq	SAVE_R9(%rsp), %r9
	movq	SAVE_RAX(%rsp), %rax
	movq	SAVE_FN(%rsp), %r11
	movaps	SAVE_XMM+0(%rsp), %xmm0
	movaps	SAVE_XMM+16(%rsp), %xmm1
	movaps	SAVE_XMM+32(%rsp), %xmm2
	movaps	SAVE_XMM+48(%rsp), %xmm3
	movaps	SAVE_XMM+64(%rsp), %xmm4
	movaps	SAVE_XMM+80(%rsp), %xmm5
	movaps	SAVE_XMM+96(%rsp), %xmm6
	movaps	SAVE_XMM+112(%rsp), %xmm7
	addq	$FRAME+8, %rsp          /* our frame, and the caller's return address */
	call	*%r11

	subq	$48, %rsp               /* the results, across dropm */
	movq	%rax, 0(%rsp)
	movq	%rdx, 8(%rsp)
	movaps	%xmm0, 16(%rsp)
	movaps	%xmm1, 32(%rsp)
	call	gort__dropm
	movq	%rax, %r11
	movq	0(%rsp), %rax
	movq	8(%rsp), %rdx
	movaps	16(%rsp), %xmm0
	movaps	32(%rsp), %xmm1
	addq	$48, %rsp
	jmp	*%r11
	.cfi_endproc
	.size	gort__cgocallback, .-gort__cgocallback

/* One shim per function: see the top of this file. */
#define FOREIGN_SHIM(name)                                   \
	.section .rodata;        \
.Lname_##name:                                               \
	.string #name;                                       \
	.text;                                               \
	.globl name;                                         \
	.type name, @function;                               \
	.hidden gort__impl_##name;                           \
	.p2align 4;                                          \
name:                                                        \
	.cfi_startproc;                                      \
	movq gort__tls_g@gottpoff(%rip), %r11;               \
	cmpq $0, %fs:(%r11);                                 \
	je 1f;                                               \
	jmp gort__impl_##name;                               \
1:	leaq gort__impl_##name(%rip), %r11;                  \
	leaq .Lname_##name(%rip), %r10;                      \
	jmp gort__cgocallback;                               \
	.cfi_endproc;                                        \
	.size name, .-name

#include "cgocall_shims.inc" /* FOREIGN_SHIM(name) for each, made from cgocall_api.list */

	.section .note.GNU-stack, "", @progbits
