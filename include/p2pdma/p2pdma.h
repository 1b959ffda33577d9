/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* p2pdma/p2pdma.h - umbrella header of libp2pdma */
#ifndef P2PDMA_P2PDMA_H
#define P2PDMA_P2PDMA_H

#include <p2pdma/context.h>
#include <p2pdma/topo.h>
#include <p2pdma/policy.h>
#include <p2pdma/verdict.h>
#include <p2pdma/kernel.h>
#include <p2pdma/nvmet.h>
#include <p2pdma/iommu.h>
#include <p2pdma/query.h>
#include <p2pdma/advice.h>
#include <p2pdma/paths.h>
#include <p2pdma/p2pmem.h>
#include <p2pdma/scenario.h>
#include <p2pdma/live.h>
#include <p2pdma/dma.h>
#include <p2pdma/dmabuf.h>
#include <p2pdma/vfio.h>

#endif
