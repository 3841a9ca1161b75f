/* The built-in annotation templates (field_templates.c). */
#ifndef OUTPUT_FIELD_TEMPLATES_H
#define OUTPUT_FIELD_TEMPLATES_H

/* Hands the built-in table to core's template expansion; start-up only. */
void output_field_templates_register(void);

#endif
