/* run_capture.h — expected-failure tests: run a program (usually the test binary itself
 * re-executed with a case name) in a child process and keep what it printed.
 *
 *   int st = run_capture(argv, &out);   wait status of argv[0] run with argv (execv),
 *                                       its stdout and stderr in out (malloc'd,
 *                                       NUL-terminated; the caller frees it); -1 if
 *                                       the pipe or the fork failed.
 * The caller then asserts on the status (WIFSIGNALED: the default error hook aborts)
 * and on the report text. */
#ifndef OBQ_TEST_RUN_CAPTURE_H
#define OBQ_TEST_RUN_CAPTURE_H

#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int run_capture(char *const argv[], char **out)
{
	int fd[2];
	if (pipe(fd) != 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(fd[1], 2);
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fd[1]);
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap + 1);
	for (;;) {
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
		ssize_t n = read(fd[0], buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd[0]);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
	}
	*out = buf;
	return st;
}

#endif /* OBQ_TEST_RUN_CAPTURE_H */
