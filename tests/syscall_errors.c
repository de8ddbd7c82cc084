/*
 * syscall_errors.c - gort's one error convention (issue 17, item 5):
 * gort_strerror names every gort code with Go's text and every errno;
 * gort_error carries a cause and a message chain (fmt.Errorf's %w,
 * errors.Is), cut short visibly when it does not fit.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "harness.h"

#define CHECK_STR(got, want) \
	CHECK(strcmp((got), (want)) == 0, "got \"%s\", want \"%s\"", (got), (want))

static void test_strerror(void)
{
	static const struct {
		long code;
		const char *text;
	} want[] = {
	    {GORT_ETIMEOUT, "i/o timeout"},
	    {GORT_ECLOSED, "use of closed network connection"},
	    {GORT_EADDR, "invalid address"},
	    {GORT_ENETWORK, "unknown network"},
	    {GORT_ENOHOST, "no such host"},
	    {GORT_ETRACEON, "tracing is already enabled"},
	    {GORT_ETRACEOFF, "tracing is not enabled"},
	    {GORT_ECANCELED, "context canceled"},
	    {GORT_EDEADLINE, "context deadline exceeded"},
	    {GORT_EOF, "EOF"},
	    {GORT_EUNEXPECTEDEOF, "unexpected EOF"},
	    {GORT_EBUFFERFULL, "bufio: buffer full"},
	    {-ENOENT, "No such file or directory"},
	    {ENOENT, "No such file or directory"}, /* as errno holds it */
	    {-EPIPE, "Broken pipe"},
	    {0, "success"},
	    {-9999, "unknown error"},
	    {-20000, "unknown error"},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		CHECK_STR(gort_strerror(want[i].code), want[i].text);
	/* gort's codes are below every errno */
	CHECK(GORT_ETIMEOUT < -4095 && GORT_EBUFFERFULL < -4095, "codes overlap errno");
}

static int load(gort_error *e, const char *path)
{
	int fd = gort_open(path, O_RDONLY, 0);
	if (fd < 0)
		return gort_errorf(e, fd, "open %s", path);
	gort_close(fd);
	return 0;
}

static void test_chain(void)
{
	gort_error e;
	int err = load(&e, "/nonexistent/gort.conf");
	CHECK(err == -ENOENT, "load: %d", err);
	CHECK_STR(e.msg, "open /nonexistent/gort.conf: No such file or directory");
	CHECK(gort_error_wrap(&e, "loading %s", "config") == -ENOENT, "wrap keeps the code");
	CHECK_STR(e.msg, "loading config: open /nonexistent/gort.conf: No such file or directory");
	CHECK(gort_error_is(&e, -ENOENT) && !gort_error_is(&e, GORT_EOF), "errors.Is");
	gort_error copy = e; /* a value: copies are independent */
	gort_error_wrap(&copy, "main");
	CHECK_STR(copy.msg, "main: loading config: open /nonexistent/gort.conf: No such file or directory");
	CHECK_STR(e.msg, "loading config: open /nonexistent/gort.conf: No such file or directory");

	CHECK(gort_errorf(&e, GORT_ETIMEOUT, "%s", "") == GORT_ETIMEOUT, "errorf's result");
	CHECK_STR(e.msg, "i/o timeout");
	CHECK(gort_errorf(&e, 0, "bad header %d", 7) == GORT_EERROR, "no cause: still an error");
	CHECK_STR(e.msg, "bad header 7");
	CHECK(gort_error_is(&e, GORT_EERROR) && e.code != 0, "fmt.Errorf without %%w is an error");

	/* errors.New: an error whatever its text; wrapping keeps it one */
	CHECK(gort_error_new(&e, "status %d", 404) == GORT_EERROR, "errors.New's code");
	CHECK_STR(e.msg, "status 404");
	CHECK(gort_error_wrap(&e, "GET %s", "/p/1") == GORT_EERROR, "wrapped");
	CHECK_STR(e.msg, "GET /p/1: status 404");
	CHECK(gort_error_is(&e, GORT_EERROR) && !gort_error_is(&e, 0), "errors.Is");
	CHECK(gort_error_new(&e, "%s", "") == GORT_EERROR, "an empty message is an error too");
	CHECK(strcmp(gort_strerror(GORT_EERROR), "error") == 0, "strerror: %s", gort_strerror(GORT_EERROR));
	gort_errorf(&e, GORT_EOF, "%s", "");
	gort_error_wrap(&e, "%s", "");
	CHECK_STR(e.msg, "EOF");

	/* too long: cut short, visibly, and never past the array */
	char big[400];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	gort_errorf(&e, GORT_ECANCELED, "%s", big);
	size_t len = strlen(e.msg);
	CHECK(len == sizeof e.msg - 1 && strcmp(e.msg + len - 3, "...") == 0, "cut: %zu bytes", len);
	CHECK(gort_error_wrap(&e, "outer") == GORT_ECANCELED, "code survives a cut message");
	CHECK(strncmp(e.msg, "outer: xxx", 10) == 0 && strcmp(e.msg + strlen(e.msg) - 3, "...") == 0,
	      "wrapped cut message: %s", e.msg);
}

static int test_main(int argc, char **argv)
{
	test_strerror();
	test_chain();
	return test_pass("syscall_errors");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
