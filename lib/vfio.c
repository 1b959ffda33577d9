// SPDX-License-Identifier: LGPL-2.1-or-later
/* vfio.c - the VFIO device model (filled by the VFIO layer) */
#include "dma-private.h"

void p2pdma_vfio_teardown(struct p2pdma_dmasys *sys)
{
	(void)sys;	/* no VFIO device model yet: nothing to free */
}

int p2pdma_vfio_on_unbind(struct p2pdma_dmasys *sys, int di)
{
	(void)sys;
	(void)di;
	return 0;
}
