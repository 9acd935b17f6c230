/* param.h - the test program's own header of this name */
#define CLASH_DEFAULT_GREETING "own param.h"
typedef int PARAM_SET;			/* clashes with nothing of ours */
