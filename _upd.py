import time, numpy as np, gspace
rng=np.random.default_rng(0)
net=gspace.skeleton_unit(gspace.MLP([784,512,512,512,512,10],rng=rng))
for batch in (128,512):
    X=rng.normal(size=(batch,784)); y=rng.integers(0,10,size=batch)
    _,g=net.loss_and_gradients(X,y,"cross_entropy")
    opts={"SGD":gspace.SGD(lr=.01),"PathSGD":gspace.PathSGD(lr=.01),"GSGD":gspace.GSGD(lr=.01)}
    T={k:[] for k in opts}; T["fb"]=[]
    for r in range(30):
        t0=time.perf_counter(); net.loss_and_gradients(X,y,"cross_entropy"); T["fb"].append(time.perf_counter()-t0)
        for k,o in opts.items():
            t0=time.perf_counter(); o.step(net,g); T[k].append(time.perf_counter()-t0)
    print(batch, {k:round(1e3*np.median(v),2) for k,v in T.items()})
