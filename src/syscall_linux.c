/*
 * syscall_linux.c - the common blocking libc calls, wrapped with
 * entersyscall/exitsyscall (proc_syscall.c) so that while one blocks, its P goes
 * on running other goroutines (Go's syscall package does the same for
 * every system call).  They return errors as the rest of gort does:
 * -errno, never -1 and errno (errors.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime2.h"

/* neg: libc's -1-and-errno as gort's -errno (exitsyscall kept errno).
 * errno is read out of line: after GORT_SYSCALL the goroutine may be on
 * another thread, and the compiler may look errno's address up only once
 * in a function (proc_syscall.c's set_errno says why). */
#if defined(__clang__)
__attribute__((noinline))
#else
__attribute__((noinline, noipa))
#endif
static int get_errno(void)
{
	return errno;
}

static inline long neg(long r)
{
	return r < 0 ? -get_errno() : r;
}

long gort_read(int fd, void *buf, size_t n)
{
	return neg(GORT_SYSCALL(read(fd, buf, n)));
}

/*
 * write_nosigpipe is write(2) with Go's answer to a reader that has gone:
 * the error EPIPE, not death by SIGPIPE.  The kernel raises SIGPIPE at the
 * writing thread; blocked around the call, it stays pending, and is taken
 * back before the mask is restored - so the program's own SIGPIPE
 * disposition and handler, untouched, still govern every write that gort
 * does not make.  (Sockets need none of this: send with MSG_NOSIGNAL.)
 */
long gort__write_nosigpipe(int fd, const void *buf, size_t n)
{
	sigset_t pipeset, old;
	sigemptyset(&pipeset);
	sigaddset(&pipeset, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipeset, &old);
	ssize_t r = write(fd, buf, n);
	int e = errno;
	if (r < 0 && e == EPIPE) {
		struct timespec zero = {0, 0};
		sigtimedwait(&pipeset, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return r;
}

/* Go's os.File.Write: EPIPE is an error like any other, except on standard
 * output and standard error, where a reader gone means the program's output
 * goes nowhere - there Go lets SIGPIPE end the program (os.epipecheck), and
 * so does gort, as the program's SIGPIPE disposition says. */
long gort_write(int fd, const void *buf, size_t n)
{
	if (fd == 1 || fd == 2)
		return neg(GORT_SYSCALL(write(fd, buf, n)));
	return neg(GORT_SYSCALL(gort__write_nosigpipe(fd, buf, n)));
}

long gort_pread(int fd, void *buf, size_t n, int64_t off)
{
	return neg(GORT_SYSCALL(pread(fd, buf, n, (off_t)off)));
}

long gort_pwrite(int fd, const void *buf, size_t n, int64_t off)
{
	return neg(GORT_SYSCALL(pwrite(fd, buf, n, (off_t)off)));
}

int gort_open(const char *path, int flags, unsigned mode)
{
	return (int)neg(GORT_SYSCALL(open(path, flags, (mode_t)mode)));
}

int gort_close(int fd)
{
	return (int)neg(GORT_SYSCALL(close(fd)));
}

int gort_fsync(int fd)
{
	return (int)neg(GORT_SYSCALL(fsync(fd)));
}

int gort_waitpid(int pid, int *status, int options)
{
	return (int)neg(GORT_SYSCALL(waitpid((pid_t)pid, status, options)));
}

/* getaddrinfo's EAI_* codes (negative too, in glibc, and overlapping
 * -errno) as gort's: a name that does not resolve is Go's "no such host". */
int gort_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                     struct addrinfo **res)
{
	int rc = GORT_SYSCALL(getaddrinfo(node, service, hints, res));
	switch (rc) {
	case 0:
		return 0;
	case EAI_SYSTEM:
		return -errno;
	case EAI_NONAME:
	case EAI_NODATA:
	case EAI_ADDRFAMILY:
	case EAI_FAIL:
	case EAI_AGAIN: /* no name server answered: as net.c always said */
		return GORT_ENOHOST;
	case EAI_MEMORY:
		return -ENOMEM;
	default: /* EAI_BADFLAGS, EAI_FAMILY, EAI_SOCKTYPE, EAI_SERVICE */
		return -EINVAL;
	}
}
