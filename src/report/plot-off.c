/* Plots in a build without PLplot: every call reports that plots are off. */
#include <config.h>

#include "report/plot.h"
#include "core/status.h"

bool fcnn_plots_available(void)
{
    return false;
}

static int unavailable(void)
{
    return fcnn_error(FCNN_ERR_UNSUPPORTED, "this fcnn was built without PLplot (install "
                      "libplplot-dev and plplot-driver-cairo, then rebuild)");
}

int fcnn_plot_history(const char *dir, const struct fcnn_plot_series *s)
{
    (void)dir, (void)s;
    return unavailable();
}

int fcnn_plot_confusion(const char *path, const int *matrix, const char *const *class_names,
                        int classes)
{
    (void)path, (void)matrix, (void)class_names, (void)classes;
    return unavailable();
}

int fcnn_plot_predictions(const char *path, const uint8_t *images, const int *true_labels,
                          const int *pred_labels, const char *const *class_names, int classes,
                          int count)
{
    (void)path, (void)images, (void)true_labels, (void)pred_labels, (void)class_names;
    (void)classes, (void)count;
    return unavailable();
}

int fcnn_plot_predictions_shaped(const char *path, const uint8_t *images, int rows, int cols,
                                 int channels, const int *true_labels, const int *pred_labels,
                                 const char *const *class_names, int classes, int count)
{
    (void)path, (void)images, (void)rows, (void)cols, (void)channels, (void)true_labels;
    (void)pred_labels, (void)class_names, (void)classes, (void)count;
    return unavailable();
}
