/*
 * msize.c - the size classes (Go's sizeclasses.go and msize.go).
 *
 * A small allocation (up to 32 KiB) is rounded up to a size class, and
 * objects of one class are carved side by side from spans of a fixed
 * number of pages.  Go's table is generated offline (mksizeclasses.go)
 * to bound both the rounding waste and the tail of each span; gort makes
 * its own at start-up by a simpler rule with the same shape:
 *
 *   - 8, 16, 24, 32, 48, 64, 80, 96, 112, 128 bytes (the common small
 *     structs: a class every 16 bytes, 24 for three pointers);
 *   - above 128, eight classes per power of two (144, 160, ... 256, 288,
 *     ...): at most 12.5% lost to rounding;
 *   - each class's span is the fewest pages (up to 16) whose tail - the
 *     bytes too few for one more object - is at most an eighth of it.
 *
 * 74 classes; class 0 stands for "large", an object with a span of its own.
 * Objects are 8-byte aligned; 16-byte aligned when the class size is a
 * multiple of 16 (every class but 8 and 24).
 */
#include "mheap.h"

uint32_t gort__class_to_size[NUM_SIZE_CLASSES];
uint8_t gort__class_to_npages[NUM_SIZE_CLASSES];
uint8_t gort__size_to_class8[MAX_SMALL_SIZE / 8 + 1];

void gort__sizeclasses_init(void)
{
	static const uint32_t first[] = {8, 16, 24, 32, 48, 64, 80, 96, 112, 128};
	int n = 1;
	for (size_t i = 0; i < sizeof first / sizeof first[0]; i++)
		gort__class_to_size[n++] = first[i];
	uint32_t size = 128;
	while (size < MAX_SMALL_SIZE) {
		uint32_t pow2 = 1u << (31 - __builtin_clz(size));
		size += pow2 / 8;
		gort__assert(n < NUM_SIZE_CLASSES, "sizeclasses: too many classes");
		gort__class_to_size[n++] = size;
	}
	gort__assert(n == NUM_SIZE_CLASSES, "sizeclasses: NUM_SIZE_CLASSES is wrong");

	for (int c = 1; c < NUM_SIZE_CLASSES; c++) {
		uint32_t sz = gort__class_to_size[c];
		uint32_t np = 1;
		while (np < 16 && (np * PAGE_SIZE) % sz > np * PAGE_SIZE / 8)
			np++;
		while (np * PAGE_SIZE < sz)
			np++;
		gort__class_to_npages[c] = (uint8_t)np;
	}

	/* the lookup by size: size_to_class8[(size+7)/8] is the smallest class that fits */
	int c = 1;
	for (uint32_t i = 0; i <= MAX_SMALL_SIZE / 8; i++) {
		while (gort__class_to_size[c] < i * 8)
			c++;
		gort__size_to_class8[i] = (uint8_t)c;
	}
	gort__size_to_class8[0] = 1;
}
