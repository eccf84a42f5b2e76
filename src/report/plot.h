/* PNG plots of a training run, drawn with PLplot's pngcairo device.
 *
 * Each call opens its own PLplot stream, writes one file and restores the stream that
 * was current before, so it can be called at any time. Failures return a status with
 * one line in fcnn_last_error(); nothing is printed. Not thread-safe: PLplot has global
 * state. Built only when configure found PLplot (HAVE_PLPLOT). */
#ifndef FCNN_PLOT_H
#define FCNN_PLOT_H

#include <stdbool.h>
#include <stdint.h>

/* Whether this build draws plots (configure found PLplot). */
bool fcnn_plots_available(void);

/* The per-epoch history of a run; epoch i+1's values are at index i. */
struct fcnn_plot_series {
    int epochs;
    const double *loss, *accuracy;         /* training: `epochs` values each */
    const double *val_loss, *val_accuracy; /* validation, or NULL when there was none */
};

/* Writes DIR/accuracy.png ("Accuracy vs Epochs") and DIR/loss.png ("Loss vs Epochs"):
 * training and validation curves against the epoch, with a legend. Non-finite values
 * (a diverged run) are left out of the curves. */
int fcnn_plot_history(const char *dir, const struct fcnn_plot_series *s);

/* Writes a heatmap of a `classes` x `classes` confusion matrix (row-major, rows are the
 * true class, columns the predicted one) with the count in each cell, the class names
 * on both axes and a colour bar. `class_names` may be NULL (classes are numbered); names
 * longer than 24 characters are cut, and beyond 12 classes the image grows with them. */
int fcnn_plot_confusion(const char *path, const int *matrix, const char *const *class_names,
                        int classes);

/* The most images fcnn_plot_predictions draws: a 5 x 5 grid. */
#define FCNN_PLOT_MAX_PREDICTIONS 25

/* Writes a grid of `count` (1..25) 28x28 grayscale images (row-major, 0 = black), each
 * titled with its true and predicted class; mistakes are drawn in red with a red frame.
 * Labels index `class_names` (NULL: numbered) and must be in 0..classes-1, where
 * `classes` is the number of names. */
int fcnn_plot_predictions(const char *path, const uint8_t *images, const int *true_labels,
                          const int *pred_labels, const char *const *class_names, int classes,
                          int count);
/* The same for images of any size and channel count (channels last; colour images are
 * drawn in gray). */
int fcnn_plot_predictions_shaped(const char *path, const uint8_t *images, int rows, int cols,
                                 int channels, const int *true_labels, const int *pred_labels,
                                 const char *const *class_names, int classes, int count);

#endif
