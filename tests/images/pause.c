/* The pod sandbox's init for the CRI tests: holds the pod's namespaces open
 * until the runtime stops it, and reaps the orphans that end up under it
 * (it is PID 1 of the pod's pid namespace). Built with `gcc -static` at test
 * time so the image needs no libc. */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	sigset_t set;
	int sig;

	/* Blocked and taken with sigwait: a PID 1 ignores signals it has no
	 * handler for, and this way no handler races the loop. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (;;) {
		if (sigwait(&set, &sig))
			continue;
		if (sig != SIGCHLD)
			return 0;
		for (;;) {
			pid_t pid = waitpid(-1, NULL, WNOHANG);

			if (pid > 0 || (pid < 0 && errno == EINTR))
				continue;
			break;
		}
	}
}
