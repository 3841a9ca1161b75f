/* Sub-commands of the sonde tool; each lives in its own file. */
#ifndef SONDE_CMD_H
#define SONDE_CMD_H

int cmd_run(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_list_containers(int argc, char **argv);
int cmd_completion(int argc, char **argv);
int cmd_image(int argc, char **argv);
/* sonde image list|tag|remove|inspect (image_store.c). */
int cmd_image_list(int argc, char **argv);
int cmd_image_tag(int argc, char **argv);
int cmd_image_remove(int argc, char **argv);
int cmd_image_inspect(int argc, char **argv);
/* sonde image verify (image_verify.c) */
int cmd_image_verify(int argc, char **argv);
/* sonde image build|export|import (image_build.c, image_archive.c). */
int cmd_image_build(int argc, char **argv);
int cmd_image_export(int argc, char **argv);
int cmd_image_import(int argc, char **argv);
/* sonde image pull|push|login|logout (image_registry.c) */
int cmd_image_pull(int argc, char **argv);
int cmd_image_push(int argc, char **argv);
int cmd_image_login(int argc, char **argv);
int cmd_image_logout(int argc, char **argv);
/* The hidden helper of the completion scripts. */
int cmd_complete(int argc, char **argv);

/* Installs the CLI log sink: one "sonde: level: message" line per message. */
void cli_log_init(void);
/* Number of errors logged so far (so a failure is reported exactly once). */
unsigned cli_errors_logged(void);
/* Prints "sonde: error: ..." and counts it. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
