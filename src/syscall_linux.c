/*
 * syscall_linux.c - the common blocking libc calls, wrapped with
 * entersyscall/exitsyscall (proc.c) so that while one blocks, its P goes
 * on running other goroutines (Go's syscall package does the same for
 * every system call).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <netdb.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime2.h"

long gort_read(int fd, void *buf, size_t n)
{
	return GORT_SYSCALL(read(fd, buf, n));
}

long gort_write(int fd, const void *buf, size_t n)
{
	return GORT_SYSCALL(write(fd, buf, n));
}

long gort_pread(int fd, void *buf, size_t n, int64_t off)
{
	return GORT_SYSCALL(pread(fd, buf, n, (off_t)off));
}

long gort_pwrite(int fd, const void *buf, size_t n, int64_t off)
{
	return GORT_SYSCALL(pwrite(fd, buf, n, (off_t)off));
}

int gort_open(const char *path, int flags, unsigned mode)
{
	return GORT_SYSCALL(open(path, flags, (mode_t)mode));
}

int gort_close(int fd)
{
	return GORT_SYSCALL(close(fd));
}

int gort_fsync(int fd)
{
	return GORT_SYSCALL(fsync(fd));
}

int gort_waitpid(int pid, int *status, int options)
{
	return GORT_SYSCALL(waitpid((pid_t)pid, status, options));
}

int gort_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                     struct addrinfo **res)
{
	return GORT_SYSCALL(getaddrinfo(node, service, hints, res));
}
