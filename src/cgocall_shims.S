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
 * gort__cgocallback: the argument registers saved on its frame,
 * gort__needm(name) binds the thread's extra M and its G and takes a P (it
 * may park this thread meanwhile); then the function is called with the
 * caller's registers as they were; back from it, gort__dropm gives the P
 * back to Psyscall and kills the G until the next call, and we return the
 * function's results (rax, rdx, xmm0, xmm1) to the caller.
 *
 * The function runs one frame deeper than its caller placed it, so an
 * argument passed on the stack would be missed: no public function takes
 * one (at most six integer or pointer arguments, no struct by value -
 * tests/foreign_api_check.py checks).  In exchange the frame is an
 * ordinary one, with CFI: a traceback of a foreign call goes on into the
 * host program's frames that made it.
 */

	.text

/* the argument registers, on our frame; FRAME keeps rsp 16-aligned at the calls */
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
	subq	$FRAME, %rsp
	.cfi_adjust_cfa_offset FRAME
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
	call	gort__needm

	movq	SAVE_RDI(%rsp), %rdi
	movq	SAVE_RSI(%rsp), %rsi
	movq	SAVE_RDX(%rsp), %rdx
	movq	SAVE_RCX(%rsp), %rcx
	movq	SAVE_R8(%rsp), %r8
	movq	SAVE_R9(%rsp), %r9
	movq	SAVE_RAX(%rsp), %rax
	movaps	SAVE_XMM+0(%rsp), %xmm0
	movaps	SAVE_XMM+16(%rsp), %xmm1
	movaps	SAVE_XMM+32(%rsp), %xmm2
	movaps	SAVE_XMM+48(%rsp), %xmm3
	movaps	SAVE_XMM+64(%rsp), %xmm4
	movaps	SAVE_XMM+80(%rsp), %xmm5
	movaps	SAVE_XMM+96(%rsp), %xmm6
	movaps	SAVE_XMM+112(%rsp), %xmm7
	call	*SAVE_FN(%rsp)

	movq	%rax, SAVE_RAX(%rsp)    /* the results, across dropm */
	movq	%rdx, SAVE_RDX(%rsp)
	movaps	%xmm0, SAVE_XMM+0(%rsp)
	movaps	%xmm1, SAVE_XMM+16(%rsp)
	call	gort__dropm
	movq	SAVE_RAX(%rsp), %rax
	movq	SAVE_RDX(%rsp), %rdx
	movaps	SAVE_XMM+0(%rsp), %xmm0
	movaps	SAVE_XMM+16(%rsp), %xmm1
	addq	$FRAME, %rsp
	.cfi_adjust_cfa_offset -FRAME
	ret
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
