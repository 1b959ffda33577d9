# Two expander bridges, each with a root port + device, and an RCiEP-like device
# directly on an expander root bus.
pxb pxb1 0x20
rp rp1 pxb1 0x0
nvme nvme1 rp1
pxb pxb2 0x40
rp rp2 pxb2 0x0
nvme nvme2 rp2
dev e1000e,bus=pxb2,addr=0x3
