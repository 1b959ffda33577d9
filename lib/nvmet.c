// SPDX-License-Identifier: LGPL-2.1-or-later
/* nvmet.c - pci_p2pdma_enable_store()/_show() and the NVMe target's P2P memory check at namespace enable */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kernel-private.h"
#include <p2pdma/nvmet.h>

/* sysfs_streq(): equal, or equal but for one trailing newline on either side. */
static bool streq_nl(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	if (*a == *b)
		return true;
	if (!*a && *b == '\n' && !b[1])
		return true;
	return *a == '\n' && !a[1] && !*b;
}

/* kstrtobool(): 0 and *res, or -EINVAL. */
static int kstrtobool(const char *s, bool *res)
{
	switch (s[0]) {
	case 'y': case 'Y': case 't': case 'T': case '1':
		*res = true;
		return 0;
	case 'n': case 'N': case 'f': case 'F': case '0':
		*res = false;
		return 0;
	case 'o': case 'O':
		if (s[1] == 'n' || s[1] == 'N') {
			*res = true;
			return 0;
		}
		if (s[1] == 'f' || s[1] == 'F') {
			*res = false;
			return 0;
		}
		return -EINVAL;
	default:
		return -EINVAL;
	}
}

P2PDMA_EXPORT int p2pdma_kernel_enable_store(struct p2pdma_kernel *k, const char *text,
					     const struct p2pdma_dev **provider, bool *use)
{
	const struct p2pdma_topo *t = p2pdma_k_topo(k);
	const struct p2pdma_dev *named = NULL;
	unsigned char c1;
	size_t i, n;

	*provider = NULL;
	if (!text)
		return p2pdma_err(k->ctx, -EINVAL, "no text written");
	/* bus_find_device_by_name(&pci_bus_type, NULL, text) */
	for (i = 0; i < t->ndevs && !named; i++)
		if (streq_nl(t->devs[i]->name, text))
			named = t->devs[i];
	if (named) {
		*use = true;
		if (!p2pdma_kernel_has_p2pmem(k, named)) {
			/* pci_err(), with the text as written (its newline too) */
			p2pdma_klog_dev(k, named, "PCI device has no peer-to-peer memory: %s", text);
			return -ENODEV;
		}
		*provider = named;
		return 0;
	}
	/* iscntrl() of the C locale: 0-31 and 127; the string's NUL counts */
	c1 = (unsigned char)(text[0] ? text[1] : 0);
	if (!((text[0] == '0' || text[0] == '1') && !(c1 < 32 || c1 == 127)) &&
	    !kstrtobool(text, use))
		return 0;
	n = strcspn(text, "\n");
	p2pdma_klog(k, P2PDMA_KLOG_KERNEL, P2PDMA_NOTE_NONE, "pci-p2pdma: No such PCI device: %.*s",
		    (int)n, text);
	return -ENODEV;
}

P2PDMA_EXPORT int p2pdma_kernel_enable_show(const struct p2pdma_kernel *k,
					    const struct p2pdma_dev *provider, bool use,
					    char *buf, size_t len)
{
	const struct p2pdma_dev *d = NULL;
	int n;

	if (provider && p2pdma_k_dev_of(k, provider, &d))
		return -EINVAL;
	if (!use)
		n = snprintf(buf, len, "0\n");
	else if (!d)
		n = snprintf(buf, len, "1\n");
	else
		n = snprintf(buf, len, "%s\n", d->name);
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

P2PDMA_EXPORT int p2pdma_nvmet_ns_p2pmem_enable(struct p2pdma_kernel *k, bool use,
						const struct p2pdma_dev *provider,
						enum p2pdma_nvmet_backing backing,
						const struct p2pdma_dev *client,
						const char *device_path,
						const struct p2pdma_dev **pick)
{
	const struct p2pdma_dev *p = NULL, *c = NULL;
	int ret, d;

	if (pick)
		*pick = NULL;
	if (!device_path)
		device_path = "";
	if ((provider && p2pdma_k_dev_of(k, provider, &p)) ||
	    (client && p2pdma_k_dev_of(k, client, &c)))
		return -EINVAL;
	if (!use)
		return 0;
	if (backing == P2PDMA_NVMET_FILE) {
		p2pdma_klog(k, P2PDMA_KLOG_KERNEL, P2PDMA_NOTE_NONE,
			    "nvmet: peer-to-peer DMA is not supported by non-block device namespaces");
		return -EINVAL;
	}
	if (backing != P2PDMA_NVMET_BLOCK_P2PDMA) {
		p2pdma_klog(k, P2PDMA_KLOG_KERNEL, P2PDMA_NOTE_NONE,
			    "nvmet: peer-to-peer DMA is not supported by the driver of %s", device_path);
		return -EINVAL;
	}
	if (p) {
		/* pci_p2pdma_distance(p2p_dev, nvmet_ns_dev(ns), true) */
		if (!c) {
			p2pdma_klog(k, P2PDMA_KLOG_NOTE, P2PDMA_NOTE_NONE,
				    "the disk behind %s has no PCI ancestor: the kernel warns that it \"cannot be used for peer-to-peer DMA as it is not a PCI device\", naming that device",
				    device_path);
			return -EINVAL;
		}
		ret = p2pdma_kernel_distance_many(k, p, &c, 1, true, NULL, &d);
		if (ret == -ENOMEM)
			return ret;
		return ret ? -EINVAL : 0;
	}
	/* pci_p2pmem_find(nvmet_ns_dev(ns)): a NULL client fails every
	 * distance quietly, so nothing is found */
	if (c) {
		ret = p2pdma_kernel_find_many(k, &c, 1, NULL, &p);
		if (ret == -ENOMEM)
			return ret;
	}
	if (!p) {
		p2pdma_klog(k, P2PDMA_KLOG_KERNEL, P2PDMA_NOTE_NONE,
			    "nvmet: no peer-to-peer memory is available for %s", device_path);
		return -EINVAL;
	}
	if (pick)
		*pick = p;
	return 0;
}
