/* Annotation lists written inline: ANN("key", "value", ...) is a
 * NULL-terminated array of key/value strings with static storage when used
 * at file scope. */
#ifndef SONDE_UTIL_ANN_H
#define SONDE_UTIL_ANN_H

#define ANN(...) ((const char *const[]){__VA_ARGS__, NULL})

#endif
