/* The built-in annotation templates (gadget.yaml `template: <name>`): how
 * well-known fields look (column widths, alignment, descriptions), as
 * upstream's templates. Core expands them; this is the table it reads. */
#include "core/field_config.h"
#include "output/field_templates.h"
#include "util/ann.h"

static const struct field_template templates[] = {
    {"timestamp",
     ANN("columns.width", "35", "columns.maxwidth", "35", "columns.ellipsis", "end", "columns.hidden", "true",
         "description", "Nanoseconds since Unix epoch (boot-relative kernel time made wall-clock)")},
    {"bytes", ANN("columns.width", "10", "columns.alignment", "right")},
    {"duration", ANN("columns.width", "20", "columns.alignment", "right")},
    {"node", ANN("columns.width", "30", "columns.ellipsis", "middle")},
    {"pod", ANN("columns.width", "30", "columns.ellipsis", "middle")},
    {"container", ANN("columns.width", "30")},
    {"namespace", ANN("columns.width", "30")},
    {"containerImageName", ANN("columns.width", "30")},
    {"containerImageDigest", ANN("columns.width", "30")},
    {"containerPid", ANN("columns.width", "6", "columns.hidden", "true", "columns.alignment", "right")},
    {"containerStartedAt", ANN("columns.hidden", "true", "columns.width", "35")},
    {"comm", ANN("description", "Process name", "columns.maxwidth", "16")},
    {"pcomm", ANN("description", "Parent process name", "columns.maxwidth", "16", "columns.hidden", "true")},
    {"pid", ANN("description", "Process ID", "columns.minwidth", "7", "columns.alignment", "right")},
    {"tid", ANN("description", "Thread ID", "columns.minwidth", "7", "columns.alignment", "right")},
    {"ppid", ANN("description", "Parent process ID", "columns.minwidth", "7", "columns.alignment", "right",
                 "columns.hidden", "true")},
    {"ptid", ANN("description", "Parent thread ID", "columns.minwidth", "7", "columns.alignment", "right",
                 "columns.hidden", "true")},
    {"uid", ANN("description", "User ID", "columns.minwidth", "8", "columns.alignment", "right")},
    {"gid", ANN("description", "Group ID", "columns.minwidth", "8", "columns.alignment", "right")},
    {"ns", ANN("columns.hidden", "true", "columns.width", "12", "columns.alignment", "right")},
    {"mntns_id", ANN("description", "Mount namespace ID", "columns.hidden", "true", "columns.width", "12",
                     "columns.alignment", "right")},
    {"netns_id", ANN("description", "Network namespace ID", "columns.hidden", "true", "columns.width", "12",
                     "columns.alignment", "right")},
    {"l4endpoint", ANN("columns.minwidth", "22", "columns.width", "40", "columns.maxwidth", "52",
                       "columns.ellipsis", "middle")},
    {"syscall", ANN("description", "Syscall", "columns.width", "18", "columns.maxwidth", "28")},
    {"errorString", ANN("columns.width", "12")},
    {"user_stack", ANN("description", "User stack trace", "columns.hidden", "true")},
};

void output_field_templates_register(void)
{
	field_templates_set(templates, sizeof(templates) / sizeof(templates[0]));
}
