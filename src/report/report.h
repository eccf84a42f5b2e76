/* What fcnn prints about a model and its results, in the layouts Keras and scikit-learn
 * users know: the model summary, the confusion matrix and the classification report. */
#ifndef FCNN_REPORT_H
#define FCNN_REPORT_H

#include <stdio.h>

#include "nn/model.h"

/* Keras's model.summary(): layer (type), output shape, parameter count, totals. */
void fcnn_print_summary(FILE *out, const struct fcnn_model *model);

/* Formats n with thousands separators: 50186 -> "50,186". */
void fcnn_format_thousands(long long n, char *out, size_t size);

/* Counts of (true class, predicted class) pairs: matrix[true * classes + pred]. */
void fcnn_confusion_matrix(const int *true_labels, const int *pred_labels, int count,
                           int classes, int *matrix);

void fcnn_print_confusion(FILE *out, const int *matrix, int classes,
                          const char *const *class_names);

/* scikit-learn's classification_report(digits=4): precision, recall, f1-score, support per
 * class, then accuracy, macro avg and weighted avg. */
void fcnn_print_classification_report(FILE *out, const int *matrix, int classes,
                                      const char *const *class_names);

#endif
