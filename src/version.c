/*
 * version.c - gort_version: the version gort.h gave when this library was
 * built, for a program to compare with the one it was compiled with (with
 * libgort.so the two may differ; gort.h's "Version" says how).
 */
#include "gort.h"

const char *gort_version(void)
{
	return GORT_VERSION_STRING;
}

int gort_version_number(void)
{
	return GORT_VERSION_NUMBER;
}
