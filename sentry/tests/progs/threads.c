/* SPDX-License-Identifier: Apache-2.0 */
/* Four threads add to one counter under a mutex, then are joined: clone,
 * futex wait and wake, CLONE_CHILD_CLEARTID. */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *work(void *arg)
{
	(void)arg;
	for (int i = 0; i < 10000; i++) {
		pthread_mutex_lock(&lock);
		counter++;
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[4];
	int n = 0;

	for (int i = 0; i < 4; i++)
		n += pthread_create(&t[i], NULL, work, NULL) == 0;
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	printf("threads: %d %ld\n", n, counter);
	return 0;
}
