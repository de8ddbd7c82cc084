/*
 * console_page.S - the console's page (src/console.html) in the library,
 * byte for byte, with a NUL after it: gort__console_html (console.c).
 * CMakeLists.txt names the file (GORT_CONSOLE_HTML) and rebuilds this
 * when it changes.
 */
	.section .rodata
	.globl gort__console_html
	.hidden gort__console_html
	.type gort__console_html, @object
gort__console_html:
	.incbin GORT_CONSOLE_HTML
	.byte 0
	.size gort__console_html, . - gort__console_html

	.section .note.GNU-stack, "", @progbits
