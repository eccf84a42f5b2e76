/* The one random generator of a run: xoshiro256** seeded through splitmix64. Every random
 * choice (initial weights, the shuffle of each epoch) draws from it in a fixed order, so a
 * seed fixes a run, and its state saved in a checkpoint lets a resumed run continue with
 * exactly the numbers the uninterrupted run would have drawn. */
#ifndef FCNN_RNG_H
#define FCNN_RNG_H

#include <stdint.h>

struct fcnn_rng {
    uint64_t s[4];
};

void fcnn_rng_seed(struct fcnn_rng *rng, uint64_t seed);
uint64_t fcnn_rng_next(struct fcnn_rng *rng);
/* Uniform in [0, 1), with 53 random bits. */
double fcnn_rng_uniform(struct fcnn_rng *rng);
/* Uniform integer in [0, n), without modulo bias. n > 0. */
uint64_t fcnn_rng_below(struct fcnn_rng *rng, uint64_t n);
/* A uniformly random permutation of 0..n-1 (Fisher-Yates), written to order. */
void fcnn_rng_permutation(struct fcnn_rng *rng, int32_t *order, int n);

#endif
