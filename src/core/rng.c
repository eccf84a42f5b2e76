/* xoshiro256** (Blackman and Vigna), seeded by splitmix64 as its authors recommend. */
#include "core/rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void fcnn_rng_seed(struct fcnn_rng *rng, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&seed);
}

uint64_t fcnn_rng_next(struct fcnn_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double fcnn_rng_uniform(struct fcnn_rng *rng)
{
    return (double)(fcnn_rng_next(rng) >> 11) * 0x1.0p-53;
}

uint64_t fcnn_rng_below(struct fcnn_rng *rng, uint64_t n)
{
    /* Reject the few values that would make some results more likely than others. */
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t r = fcnn_rng_next(rng);
        if (r >= threshold)
            return r % n;
    }
}

void fcnn_rng_permutation(struct fcnn_rng *rng, int32_t *order, int n)
{
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)fcnn_rng_below(rng, (uint64_t)i + 1);
        int32_t tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
}
