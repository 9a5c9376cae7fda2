// A persistent thread pool for EcomTensor's parallel loops (ComputeThreads.forEachChunk): workers wait for work by
// spinning briefly, then sleeping on a condition variable, so that the many small parallel loops of decoding (a few
// microseconds each) do not pay a thread wake-up each. Portable C11 atomics and pthreads; not x86-specific.
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include "EcomTensorKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ECOM_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define ECOM_RELAX() __asm__ volatile("yield")
#else
#define ECOM_RELAX() ((void)0)
#endif

enum { MAX_WORKERS = 63, SPIN_LIMIT = 1 << 11 };

/// One caller at a time: a nested or concurrent call runs its chunks on its own thread instead.
static pthread_mutex_t callLock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t sleepLock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wakeUp = PTHREAD_COND_INITIALIZER;
static int started;  // workers running (guarded by callLock)
static int sleepers; // workers waiting on wakeUp (guarded by sleepLock)

/// The current job, valid for the generation published in `generation` (written before it, read after it).
static ecom_pool_task jobTask;
static void *jobContext;
static uint32_t jobChunks;
static _Atomic uint64_t generation;
/// The next chunk to take: (generation << 32) | index. A worker that took a chunk under an older generation cannot
/// take one of a newer job: its compare-and-swap fails once the generation changes.
static _Atomic uint64_t nextChunk;
static _Atomic uint32_t doneChunks;
/// Nonzero while this thread runs a chunk of a parallel job, on a worker or on the caller (ecom_pool_in_chunk).
static _Thread_local int inChunk;

int ecom_pool_in_chunk(void) { return inChunk; }

/// Takes and runs chunks of generation `g` until none is left.
static void runChunks(uint64_t g) {
    uint64_t v = atomic_load_explicit(&nextChunk, memory_order_acquire);
    for (;;) {
        if ((v >> 32) != (g & 0xFFFFFFFFu)) return;
        uint32_t index = (uint32_t)v;
        if (index >= jobChunks) return;
        if (!atomic_compare_exchange_weak_explicit(&nextChunk, &v, v + 1, memory_order_acq_rel, memory_order_acquire)) continue;
        int outer = inChunk;
        inChunk = 1;
        jobTask(jobContext, (ptrdiff_t)index);
        inChunk = outer;
        atomic_fetch_add_explicit(&doneChunks, 1, memory_order_release);
        v = atomic_load_explicit(&nextChunk, memory_order_acquire);
    }
}

static void *worker(void *unused) {
    (void)unused;
    uint64_t seen = atomic_load_explicit(&generation, memory_order_acquire);
    for (;;) {
        uint64_t g;
        int spins = 0;
        while ((g = atomic_load_explicit(&generation, memory_order_acquire)) == seen) {
            if (++spins < SPIN_LIMIT) { ECOM_RELAX(); continue; }
            pthread_mutex_lock(&sleepLock);
            sleepers++;
            while ((g = atomic_load_explicit(&generation, memory_order_acquire)) == seen) pthread_cond_wait(&wakeUp, &sleepLock);
            sleepers--;
            pthread_mutex_unlock(&sleepLock);
        }
        seen = g;
        runChunks(g);
    }
    return NULL;
}

void ecom_pool_run(ptrdiff_t chunks, ptrdiff_t threads, ecom_pool_task task, void *context) {
    if (chunks <= 0) return;
    if (chunks == 1 || threads <= 1 || chunks > 0xFFFFFFFF || pthread_mutex_trylock(&callLock) != 0) {
        int outer = inChunk;
        inChunk = 1;
        for (ptrdiff_t c = 0; c < chunks; c++) task(context, c);
        inChunk = outer;
        return;
    }
    int want = (int)(threads - 1 < MAX_WORKERS ? threads - 1 : MAX_WORKERS);
    while (started < want) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&t, &attr, worker, NULL);
        pthread_attr_destroy(&attr);
        if (failed) break;
        started++;
    }
    uint64_t g = atomic_load_explicit(&generation, memory_order_relaxed) + 1;
    jobTask = task;
    jobContext = context;
    jobChunks = (uint32_t)chunks;
    atomic_store_explicit(&doneChunks, 0, memory_order_relaxed);
    atomic_store_explicit(&nextChunk, (g & 0xFFFFFFFFu) << 32, memory_order_relaxed);
    atomic_store_explicit(&generation, g, memory_order_release);
    pthread_mutex_lock(&sleepLock);
    if (sleepers > 0) pthread_cond_broadcast(&wakeUp);
    pthread_mutex_unlock(&sleepLock);
    runChunks(g);
    while (atomic_load_explicit(&doneChunks, memory_order_acquire) < (uint32_t)chunks) ECOM_RELAX();
    pthread_mutex_unlock(&callLock);
}
