/* Class names: from the folders of an image dataset, from a file (one per line), the
 * label numbers of IDX data without names, or Fashion-MNIST's own. */
#ifndef FCNN_CLASSES_H
#define FCNN_CLASSES_H

struct fcnn_class_names {
    int count;
    char **names; /* count strings, owned */
};

/* "0", "1", ... "count-1". */
int fcnn_classes_numbered(int count, struct fcnn_class_names *out);
/* Copies `count` names. */
int fcnn_classes_copy(int count, const char *const *names, struct fcnn_class_names *out);
/* One name per line (trailing white space and a final newline ignored); empty names,
 * duplicates and more than 256 names are refused, naming the file and the line. */
int fcnn_classes_read(const char *path, struct fcnn_class_names *out);
void fcnn_classes_free(struct fcnn_class_names *names);

#endif
