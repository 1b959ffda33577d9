# Two expander bridges (separate host bridges, root buses 0x20 and 0x40), each
# with root ports + devices; pxb2 has two root ports (first at devfn 00.0).
pxb pxb1 0x20
rp rp1 pxb1 0x0
nvme nvme1 rp1
pxb pxb2 0x40
rp rp2 pxb2 0x0
nvme nvme2 rp2
rp rp3 pxb2 0x1
dev e1000e,bus=rp3
