/* A library that starts a thread from its constructor, as third-party
 * libraries do. Nobody marks the thread: the template must refuse to
 * freeze and name it. */
#include <pthread.h>
#include <unistd.h>

void *nuwa_test_rogue_main(void *arg);
int nuwa_test_rogue_init(void);

/* A preload init entry ([framework] preload = lib.so:nuwa_test_rogue_init). */
int nuwa_test_rogue_init(void)
{
	return 0;
}

void *nuwa_test_rogue_main(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "rogue-worker");
	for (;;)
		pause();
	return NULL;
}

__attribute__((constructor)) static void start_rogue(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, nuwa_test_rogue_main, NULL) == 0)
		pthread_detach(t);
}
